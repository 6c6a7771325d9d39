//go:build !linux

package main

// releaseStartupPages is Linux only (textpages_linux.go).
func releaseStartupPages() int64 { return 0 }
