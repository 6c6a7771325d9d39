//go:build race

package proxy

// raceOn: the race detector allocates, so allocation counts are not
// asserted under it.
const raceOn = true
