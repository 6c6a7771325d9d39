//go:build !race

package h2

const raceOn = false
