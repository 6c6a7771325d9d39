//go:build race

package cache

// raceOn: the race detector allocates, so allocation counts are not
// asserted under it.
const raceOn = true
