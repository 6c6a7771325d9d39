package compliance

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

func TestNetwork(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.0/24"},
		{"192.0.2.255", "192.0.2.0/24"},
		{"::ffff:192.0.2.7", "192.0.2.0/24"}, // IPv4-mapped is IPv4
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		if got := Network(netip.MustParseAddr(tt.ip)).String(); got != tt.want {
			t.Errorf("Network(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
	if Network(netip.Addr{}).IsValid() {
		t.Error("Network of the zero address is valid")
	}
}

func TestReportFingerprint(t *testing.T) {
	base := ReportInput{Host: "shop.example", Category: "abuse", Description: "Phishing page for a bank",
		EvidenceURLs: []string{"https://e.example/1"}, ReporterEmail: "a@b.example"}
	ip := netip.MustParseAddr("192.0.2.7")
	fp := ReportFingerprint(base, ip)
	same := []struct {
		name string
		in   ReportInput
		ip   string
	}{
		{"case and white space", ReportInput{Host: "shop.example", Category: "abuse", Description: "  phishing\tPAGE  for a\nbank ",
			EvidenceURLs: []string{"https://e.example/1"}}, "192.0.2.7"},
		{"same /24", base, "192.0.2.200"},
		{"other e-mail", ReportInput{Host: base.Host, Category: base.Category, Description: base.Description, EvidenceURLs: base.EvidenceURLs, ReporterEmail: "z@y.example"}, "192.0.2.7"},
	}
	for _, tt := range same {
		if got := ReportFingerprint(tt.in, netip.MustParseAddr(tt.ip)); got != fp {
			t.Errorf("%s: a different fingerprint", tt.name)
		}
	}
	differ := []struct {
		name string
		in   ReportInput
		ip   string
	}{
		{"host", ReportInput{Host: "other.example", Category: "abuse", Description: base.Description, EvidenceURLs: base.EvidenceURLs}, "192.0.2.7"},
		{"category", ReportInput{Host: base.Host, Category: "other", Description: base.Description, EvidenceURLs: base.EvidenceURLs}, "192.0.2.7"},
		{"description", ReportInput{Host: base.Host, Category: "abuse", Description: "Phishing page for a bank!", EvidenceURLs: base.EvidenceURLs}, "192.0.2.7"},
		{"evidence", ReportInput{Host: base.Host, Category: "abuse", Description: base.Description, EvidenceURLs: []string{"https://e.example/2"}}, "192.0.2.7"},
		{"no evidence", ReportInput{Host: base.Host, Category: "abuse", Description: base.Description}, "192.0.2.7"},
		// Fields are length-prefixed: moving text between them changes it.
		{"evidence split", ReportInput{Host: base.Host, Category: "abuse", Description: base.Description, EvidenceURLs: []string{"https://e.example/", "1"}}, "192.0.2.7"},
		{"network", base, "192.0.3.7"},
	}
	for _, tt := range differ {
		if got := ReportFingerprint(tt.in, netip.MustParseAddr(tt.ip)); got == fp {
			t.Errorf("%s: the same fingerprint", tt.name)
		}
	}
}

func TestFormToken(t *testing.T) {
	rp := NewReporter(&Service{}, config.ComplianceReports{})
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rp.now = func() time.Time { return now }
	other := NewReporter(&Service{}, config.ComplianceReports{}) // another node's key
	tok := rp.FormToken("shop.example", now.Add(-time.Minute))
	ts, rest, _ := strings.Cut(tok, ".")
	tests := []struct {
		name, host, token string
		ok                bool
	}{
		{"fresh", "shop.example", tok, true},
		{"at the end of its life", "shop.example", rp.FormToken("shop.example", now.Add(-FormTokenTTL)), true},
		{"expired", "shop.example", rp.FormToken("shop.example", now.Add(-FormTokenTTL-time.Second)), false},
		{"from the future", "shop.example", rp.FormToken("shop.example", now.Add(2*time.Minute)), false},
		{"other host", "other.example", tok, false},
		{"other node", "shop.example", other.FormToken("shop.example", now), false},
		{"time moved", "shop.example", "1" + ts + "." + rest, false},
		{"empty", "shop.example", "", false},
		{"no dot", "shop.example", "abc", false},
		{"bad base64", "shop.example", ts + ".x.!!!", false},
		{"too long", "shop.example", tok + strings.Repeat("A", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rp.checkFormToken(tt.host, tt.token)
			if (err == nil) != tt.ok {
				t.Errorf("checkFormToken = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
