// Package attack decides when a zone is under attack: the "under attack"
// mode's off, on and auto settings, and the auto-mode Detector that
// switches a zone on when its request rate, or its origin's error ratio or
// latency, rises far above the zone's own recent baseline, or at once when
// the origin is saturated (its queue in front of it sheds requests; see
// Detector.Shed), and off again
// after a quiet period.
package attack

import (
	"fmt"
	"strings"
)

// Mode is a zone's under_attack setting.
type Mode int

// The under_attack settings.
const (
	// Off never challenges (the default).
	Off Mode = iota
	// On challenges every client without a clearance.
	On
	// Auto challenges while the zone's Detector is active.
	Auto
)

// String returns the config spelling ("off", "on", "auto").
func (m Mode) String() string {
	switch m {
	case Off:
		return "off"
	case On:
		return "on"
	case Auto:
		return "auto"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode parses a zone's under_attack value: "off" (or ""), "on" or
// "auto", in any case and with surrounding spaces ignored.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off":
		return Off, nil
	case "on":
		return On, nil
	case "auto":
		return Auto, nil
	}
	return Off, fmt.Errorf("parsing under_attack %q: want off, on or auto", s)
}
