package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/store"
)

func TestGate(t *testing.T) {
	scr := sharedScreening(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newService(t, s, scr, "")
			accounts := []struct {
				name string
				in   AccountInput
				want string
			}{
				{"clean organization", AccountInput{Name: "Quiet Meadow Bakery", Kind: "organization", Country: "NL", Email: "owner@quietmeadow.example"}, store.AccountActive},
				// ofac-sdn 8809 BATARJEE, Adel Abdul Jalil Ibrahim (SDGT), written in natural order.
				{"listed person", AccountInput{Name: "Adel Abdul Jalil Ibrahim Batarjee", Kind: "person"}, store.AccountReview},
				// ofac-sdn 4633 BANK MASKAN (IRAN).
				{"listed organization", AccountInput{Name: "Bank Maskan", Kind: "organization"}, store.AccountReview},
				{"embargoed country", AccountInput{Name: "Quiet Meadow Trading", Kind: "organization", Country: "ir"}, store.AccountBlocked},
				// ofac-sdn 306 BANCO NACIONAL DE CUBA lists "Zweierstrasse 35", "Zurich CH-8022".
				{"listed street address", AccountInput{Name: "Quiet Meadow Consulting", Kind: "organization", Country: "CH", Address: "Zweierstrasse 35, 8022 Zürich, Switzerland"}, store.AccountReview},
				{"same street elsewhere", AccountInput{Name: "Quiet Meadow Printing", Kind: "organization", Country: "CH", Address: "Zweierstrasse 35, 3011 Bern, Switzerland"}, store.AccountActive},
				{"address in an embargoed country", AccountInput{Name: "Quiet Meadow Imports", Kind: "organization", Country: "NL", Address: "12 Example Street, Tehran, Iran"}, store.AccountBlocked},
			}
			ids := map[string]string{}
			for _, tt := range accounts {
				t.Run(tt.name, func(t *testing.T) {
					res, err := c.CreateAccount(ctx, tt.in, "tok1")
					if err != nil {
						t.Fatal(err)
					}
					if res.Status != tt.want {
						t.Fatalf("status = %s, want %s (evidence %+v)", res.Status, tt.want, res.Screening)
					}
					if tt.want == store.AccountReview && len(res.Screening.Matches) == 0 {
						t.Error("review without matches")
					}
					got, err := s.GetAccount(ctx, res.ID)
					if err != nil || got.Status != tt.want {
						t.Fatalf("stored account = %+v, %v", got, err)
					}
					scs, err := s.Screenings(ctx, store.SubjectAccount, res.ID, 5)
					if err != nil || len(scs) != 1 || scs[0].Result != tt.want || scs[0].Actor != "tok1" {
						t.Fatalf("screenings = %+v, %v", scs, err)
					}
					ids[tt.name] = res.ID
				})
			}
			zones := []struct {
				name, account, body string
				want                string
				reason              string
			}{
				{"clean host", "clean organization", `{"host":"www.quietmeadow.example","origins":["http://127.0.0.1:9"]}`, store.ZoneActive, ""},
				// ofac-sdn 7916: "Website h-terre.org" in the SDN remarks; a subdomain matches.
				{"listed website", "clean organization", `{"host":"www.h-terre.org","origins":["http://127.0.0.1:9"]}`, store.ZoneRejected, "h-terre.org"},
				{"listed alias", "clean organization", `{"host":"shop.quietmeadow.example","aliases":["bank-maskan.ir"],"origins":["http://127.0.0.1:9"]}`, store.ZoneRejected, "bank-maskan.ir"},
				{"account in review", "listed person", `{"host":"adel.example","origins":["http://127.0.0.1:9"]}`, store.ZoneReview, "in review"},
				{"account blocked", "embargoed country", `{"host":"trading.example","origins":["http://127.0.0.1:9"]}`, store.ZoneRejected, "blocked"},
			}
			for _, tt := range zones {
				t.Run(tt.name, func(t *testing.T) {
					var m map[string]any
					_ = json.Unmarshal([]byte(tt.body), &m)
					m["account_id"] = ids[tt.account]
					body, _ := json.Marshal(m)
					res, err := c.CreateZone(ctx, body, "tok1")
					if err != nil {
						t.Fatal(err)
					}
					if res.Status != tt.want || !strings.Contains(strings.Join(res.Reasons, "|"), tt.reason) {
						t.Fatalf("zone = %+v, want %s with reason %q", res, tt.want, tt.reason)
					}
					st, ok := c.ZoneState(res.Host)
					if !ok || st.Status != tt.want {
						t.Fatalf("zone state = %+v, %v", st, ok)
					}
				})
			}
			// The same host again is a conflict; bad input is ErrInvalid.
			_, err := c.CreateZone(ctx, json.RawMessage(`{"account_id":"`+ids["clean organization"]+`","host":"www.quietmeadow.example","origins":["http://127.0.0.1:9"]}`), "tok1")
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("duplicate host: %v, want ErrConflict", err)
			}
			for _, bad := range []string{
				`{"host":"x.example","origins":["http://127.0.0.1:9"]}`,
				`{"account_id":"acc_nope","host":"x.example","origins":["http://127.0.0.1:9"]}`,
				`{"account_id":"` + ids["clean organization"] + `","host":"x.example","origins":["ftp://127.0.0.1:9"]}`,
				`{"account_id":"` + ids["clean organization"] + `","host":"x.example","origins":["http://127.0.0.1:9"],"no_such_field":1}`,
				`{"account_id":"` + ids["clean organization"] + `","host":"bad host!","origins":["http://127.0.0.1:9"]}`,
			} {
				if _, err := c.CreateZone(ctx, json.RawMessage(bad), "tok1"); !errors.Is(err, ErrInvalid) {
					t.Errorf("CreateZone(%s) = %v, want ErrInvalid", bad, err)
				}
			}
			for _, bad := range []AccountInput{{}, {Name: "x", Kind: "robot"}, {Name: "x", Country: "XX"}, {Name: "x", Email: "not-an-email"}} {
				if _, err := c.CreateAccount(ctx, bad, "tok1"); !errors.Is(err, ErrInvalid) {
					t.Errorf("CreateAccount(%+v) = %v, want ErrInvalid", bad, err)
				}
			}
		})
	}
}

func TestConfigZonesGate(t *testing.T) {
	scr := sharedScreening(t)
	ctx := context.Background()
	s := backends[0].open(t)
	c := newService(t, s, scr, "")
	zones := []config.Zone{
		{Host: "www.quietmeadow.example", Origins: []string{"http://127.0.0.1:9"}},
		{Host: "www.bank-maskan.ir", Origins: []string{"http://127.0.0.1:9"}},
	}
	blocked, err := c.SyncConfigZones(ctx, zones)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocked) != 1 || blocked["www.bank-maskan.ir"] != store.ZoneRejected {
		t.Fatalf("blocked = %v", blocked)
	}
	// Again (a reload): nothing new is written, the outcome is the same.
	before, _ := s.Head(ctx)
	if blocked, err = c.SyncConfigZones(ctx, zones); err != nil || len(blocked) != 1 {
		t.Fatalf("second sync: %v %v", blocked, err)
	}
	after, _ := s.Head(ctx)
	if after.Seq != before.Seq {
		t.Errorf("an unchanged reload wrote %d audit entries", after.Seq-before.Seq)
	}
	z, err := s.GetZoneByHost(ctx, "www.quietmeadow.example")
	if err != nil || z.Source != store.SourceConfig || z.Status != store.ZoneActive {
		t.Fatalf("config zone = %+v, %v", z, err)
	}
}

func TestValidateReport(t *testing.T) {
	long := strings.Repeat("x", MaxDescription+1)
	tests := []struct {
		name string
		in   ReportInput
		want string // "" = valid
	}{
		{"valid", ReportInput{Host: "WWW.Example.org", Category: "abuse", Description: "phishing page for a bank", EvidenceURLs: []string{"https://example.org/x"}, ReporterEmail: "a@b.example"}, ""},
		{"no host", ReportInput{Category: "abuse", Description: "phishing page for a bank"}, "host"},
		{"bad host", ReportInput{Host: "exa mple", Category: "abuse", Description: "phishing page for a bank"}, "host"},
		{"wildcard host", ReportInput{Host: "*.example.org", Category: "abuse", Description: "phishing page for a bank"}, "host"},
		{"bad category", ReportInput{Host: "example.org", Category: "spam", Description: "phishing page for a bank"}, "category"},
		{"short description", ReportInput{Host: "example.org", Category: "other", Description: "short"}, "description"},
		{"javascript evidence", ReportInput{Host: "example.org", Category: "other", Description: "phishing page for a bank", EvidenceURLs: []string{"javascript:alert(1)"}}, "evidence_urls[0]"},
		{"bad email", ReportInput{Host: "example.org", Category: "other", Description: "phishing page for a bank", ReporterEmail: "me at home"}, "reporter_email"},
		// Over a size bound: ErrTooLarge (413) naming the field.
		{"long description", ReportInput{Host: "example.org", Category: "other", Description: long}, "too large: description"},
		{"long host", ReportInput{Host: strings.Repeat("a.", 130) + "org", Category: "other", Description: "phishing page for a bank"}, "too large: host"},
		{"many evidence URLs", ReportInput{Host: "example.org", Category: "other", Description: "phishing page for a bank",
			EvidenceURLs: strings.Fields(strings.Repeat("https://example.org/ ", MaxEvidence+1))}, "too large: evidence_urls"},
		{"long evidence URL", ReportInput{Host: "example.org", Category: "other", Description: "phishing page for a bank",
			EvidenceURLs: []string{"https://example.org/" + strings.Repeat("a", MaxEvidenceURL)}}, "too large: evidence_urls[0]"},
		{"long email", ReportInput{Host: "example.org", Category: "other", Description: "phishing page for a bank",
			ReporterEmail: strings.Repeat("a", 250) + "@b.example"}, "too large: reporter_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := ValidateReport(&in)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if in.Host != "www.example.org" {
					t.Errorf("host not canonical: %q", in.Host)
				}
				return
			}
			sentinel := ErrInvalid
			if strings.HasPrefix(tt.want, "too large: ") {
				sentinel = ErrTooLarge
			}
			if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %v naming %s", err, sentinel, tt.want)
			}
		})
	}
}

func FuzzValidateReport(f *testing.F) {
	f.Add("example.org", "abuse", "phishing page for a bank", "https://example.org/", "a@b.example")
	f.Add("*.x", "", "", "javascript:x", "@")
	f.Fuzz(func(t *testing.T, host, cat, desc, ev, email string) {
		in := ReportInput{Host: host, Category: cat, Description: desc, EvidenceURLs: []string{ev}, ReporterEmail: email}
		if err := ValidateReport(&in); err == nil {
			if in.Host == "" || !strings.HasPrefix(in.EvidenceURLs[0], "http") {
				t.Fatalf("accepted %+v", in)
			}
		}
	})
}

// FuzzParseZone feeds arbitrary bodies through the zone parser: it must
// never panic, and an accepted zone has a canonical host and an origin.
func FuzzParseZone(f *testing.F) {
	f.Add(`{"host":"www.example.org","origins":["http://127.0.0.1:9"]}`)
	f.Add(`{"host":"*.example.org","aliases":["a.example"],"origins":["https://o.example"],"cache":{"enabled":true}}`)
	f.Add(`{"host":"x","origins":[]}`)
	f.Add(`[1]`)
	f.Fuzz(func(t *testing.T, body string) {
		z, err := ParseZone(json.RawMessage(body))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if z.Host == "" || len(z.Origins) == 0 {
			t.Fatalf("accepted zone without host or origin: %+v", z)
		}
	})
}
