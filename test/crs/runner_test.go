package crs

import (
	"bytes"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestRaw(t *testing.T) {
	t.Parallel()
	post, uri := "POST", "/post"
	no := false
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"defaults", Input{}, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"},
		{"data gets a length", Input{Method: &post, URI: &uri, Headers: yaml.MapSlice{{Key: "Host", Value: "localhost"}}, Data: "a=1"},
			"POST /post HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1"},
		{"no autocomplete", Input{Data: "x", AutocompleteHeaders: &no}, "GET / HTTP/1.1\r\n\r\nx"},
		{"template", Input{Data: `a={{ "1" | repeat 5 }}`, AutocompleteHeaders: &no}, "GET / HTTP/1.1\r\n\r\na=11111"},
		{"encoded", Input{EncodedRequest: "R0VUIC8gSFRUUC8xLjENCg0K"}, "GET / HTTP/1.1\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.in.Raw()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Raw = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := (Input{EncodedRequest: "!!"}).Raw(); err == nil {
		t.Error("bad base64 accepted")
	}
}

// FuzzRaw checks that any data is sent unchanged after its templates are
// expanded, and that a declared length matches what is sent.
func FuzzRaw(f *testing.F) {
	f.Add("var=1234 OR 1=1")
	f.Add(`{{ "ab" | repeat 3 }}tail`)
	f.Add("{{ broken")
	f.Fuzz(func(t *testing.T, data string) {
		raw, err := Input{Data: data}.Raw()
		if err != nil {
			t.Fatal(err)
		}
		exp := expandData(data)
		if !bytes.HasSuffix(raw, []byte("\r\n\r\n"+exp)) {
			t.Fatalf("body not sent as expanded: %q", raw)
		}
		if exp != "" && !strings.Contains(string(raw), "Content-Length: ") {
			t.Fatalf("no Content-Length for %d body bytes", len(exp))
		}
	})
}
