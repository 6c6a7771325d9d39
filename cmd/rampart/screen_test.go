package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runScreenCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newScreenCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

const screenFixture = "../../internal/screening/testdata/ofac-v1"

func TestScreenCommand(t *testing.T) {
	tests := []struct {
		name    string
		stdin   string
		args    []string
		want    []string
		wantErr string
	}{
		{"human", "", []string{"--lists", screenFixture, "Vladimir Putin", "Giulia Lopez"},
			[]string{"Vladimir Putin\n", "ofac-sdn:35096", "PUTIN, Vladimir Vladimirovich", "matched alias", "Giulia Lopez\n  no match"}, ""},
		{"kind and threshold", "", []string{"--lists", screenFixture, "--kind", "vessel", "--threshold", "0.95", "NS Champion"},
			[]string{"1.000  ofac-sdn:46610"}, ""},
		{"stdin json", "AL-QAIDA\n\nnobody at all\n", []string{"--lists", screenFixture, "--json"},
			[]string{`{"query":"AL-QAIDA","matches":[{"id":"ofac-sdn:6366"`, `{"query":"nobody at all","matches":[]}`}, ""},
		{"explain", "", []string{"--lists", screenFixture, "--explain", "The Al Qaida Movement (The Base)"},
			[]string{"whole  the(article) al qaida movement(descriptor) the(article) base", "part   the(article) al qaida movement(descriptor)", "information: base=", "0.980  ofac-sdn:6366", `screened separately: "The Base"`}, ""},
		{"bad kind", "", []string{"--lists", screenFixture, "--kind", "ship", "x"}, nil, `invalid --kind "ship"`},
		{"bad threshold", "", []string{"--lists", screenFixture, "--threshold", "2", "x"}, nil, "invalid --threshold"},
		{"bad list path", "", []string{"--lists", "/nonexistent/lists", "x"}, nil, "loading lists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runScreenCmd(t, tt.stdin, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestScreenJSONLines(t *testing.T) {
	out, err := runScreenCmd(t, "Vladimir Putin\nHavin Bank Ltd\n", "--lists", screenFixture, "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var v struct {
			Query   string `json:"query"`
			Matches []struct {
				ID          string  `json:"id"`
				Score       float64 `json:"score"`
				Explanation string  `json:"explanation"`
			} `json:"matches"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if len(v.Matches) == 0 || v.Matches[0].Score < 0.9 || v.Matches[0].Explanation == "" {
			t.Errorf("line %q lacks a scored, explained match", l)
		}
	}
}
