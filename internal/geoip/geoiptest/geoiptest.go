// Package geoiptest builds small MaxMind-format databases for tests and
// benchmarks, so that no licensed GeoIP data is shipped.
package geoiptest

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Entry is one network of a database built by Write.
type Entry struct {
	// Network is the CIDR the record covers.
	Network netip.Prefix
	// Country is the ISO code ("" for none).
	Country string
	// ASN is the autonomous system number (0 for none).
	ASN uint32
	// Org is the autonomous system organisation ("" for none).
	Org string
}

// Write builds a small combined .mmdb database (country and ASN records)
// at path, for tests and benchmarks: no licensed data is shipped, each test
// builds what it needs. The file is written to a temporary name, synced and
// renamed, so a watcher never reads half a database.
func Write(path string, entries []Entry) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "rampart-test",
		RecordSize:              28,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("building test geoip database: %w", err)
	}
	for _, e := range entries {
		m := mmdbtype.Map{}
		if e.Country != "" {
			m["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(e.Country)}
		}
		if e.ASN != 0 {
			m["autonomous_system_number"] = mmdbtype.Uint32(e.ASN)
		}
		if e.Org != "" {
			m["autonomous_system_organization"] = mmdbtype.String(e.Org)
		}
		p := e.Network.Masked()
		n := &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := tree.Insert(n, m); err != nil {
			return fmt.Errorf("building test geoip database: inserting %s: %w", p, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".geoip-*.mmdb")
	if err != nil {
		return fmt.Errorf("writing test geoip database %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tree.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing test geoip database %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing test geoip database %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing test geoip database %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing test geoip database %s: %w", path, err)
	}
	return nil
}
