//go:build race

package h1

// raceOn: the race detector allocates, so allocation counts are not
// asserted under it.
const raceOn = true
