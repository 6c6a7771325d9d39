//go:build race

package h2

// raceOn: the race detector allocates, so allocation counts are not
// asserted under it.
const raceOn = true
