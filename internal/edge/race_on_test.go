//go:build race

package edge

// raceOn: the race detector allocates, so allocation counts are not
// asserted under it.
const raceOn = true
