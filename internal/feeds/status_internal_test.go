package feeds

import (
	"strings"
	"testing"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

func TestStaleReason(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f := config.Feed{Interval: time.Hour, MaxAge: 7 * 24 * time.Hour}
	for _, tc := range []struct {
		name                        string
		published, success, started time.Time
		want                        string
	}{
		{"fresh", now.Add(-24 * time.Hour), now.Add(-time.Hour), now.Add(-48 * time.Hour), ""},
		{"old publication", now.Add(-8 * 24 * time.Hour), now.Add(-time.Minute), now.Add(-48 * time.Hour), "older than max_age"},
		{"no success in 3 intervals", now.Add(-24 * time.Hour), now.Add(-3*time.Hour - time.Second), now.Add(-48 * time.Hour), "older than 3 intervals"},
		{"never successful", time.Time{}, time.Time{}, now.Add(-4 * time.Hour), "no successful check"},
		{"just started", time.Time{}, time.Time{}, now.Add(-time.Minute), ""},
	} {
		got := staleReason(tc.published, tc.success, tc.started, now, f)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFileURL(t *testing.T) {
	for _, tc := range []struct{ base, remote, want string }{
		{"https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/", "SDN.CSV", "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV"},
		{"https://mirror.example/exports", "ALT.CSV", "https://mirror.example/exports/ALT.CSV"},
		{"https://scsanctions.un.org/resources/xml/en/consolidated.xml", "", "https://scsanctions.un.org/resources/xml/en/consolidated.xml"},
	} {
		if got := fileURL(tc.base, remoteFile{remote: tc.remote}); got != tc.want {
			t.Errorf("fileURL(%q, %q) = %q, want %q", tc.base, tc.remote, got, tc.want)
		}
	}
}
