package compliance

import (
	"context"
	"testing"

	"github.com/rampart-edge/rampart/internal/store"
)

// TestGateCustomerTypedNames onboards the names issue 12 quotes, as a
// customer types them, through the gate: the designated groups go to
// review, look-alike letters and Arabic script included, and the lawful
// names that share words with listed ones stay active.
func TestGateCustomerTypedNames(t *testing.T) {
	scr := sharedScreening(t)
	ctx := context.Background()
	s := backends[0].open(t)
	c := newService(t, s, scr, "")
	for _, tt := range []struct {
		name string
		want string
	}{
		{"The Taliban", store.AccountReview},
		{"Hamas Movement", store.AccountReview},
		{"Kurdistan Workers Party (PKK)", store.AccountReview},
		{"HAMAS - Islamic Resistance Movement", store.AccountReview},
		{"Hezbollah Lebanon", store.AccountReview},
		{"Al-Shabaab Somalia", store.AccountReview},
		{"Islamic Jihad Movement in Palestine", store.AccountReview},
		{"\u0397ezbollah", store.AccountReview}, // Greek capital Eta
		{"طالبان", store.AccountReview},
		{"حزب الله", store.AccountReview},
		{"حماس", store.AccountReview},
		{"داعش", store.AccountReview},
		{"Global Trading LLC", store.AccountActive},
		{"Red Eagle Roofing LLC", store.AccountActive},
		{"The Base Climbing Gym", store.AccountActive},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.CreateAccount(ctx, AccountInput{Name: tt.name, Kind: "organization", Country: "NL"}, "tok1")
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.want {
				t.Fatalf("status = %s, want %s (matches %+v)", res.Status, tt.want, res.Screening.Matches)
			}
		})
	}
}
