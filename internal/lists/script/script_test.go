package script

import "testing"

func TestDetect(t *testing.T) {
	tests := []struct{ in, want, nonLatin string }{
		{"صدام حسين التكريتي", "Arab", "Arab"},
		{"Владимир Путин", "Cyrl", "Cyrl"},
		{"金正恩", "Hani", "Hani"},
		{"김정은", "Hang", "Hang"},
		{"Société Générale", "Latn", ""},
		{"123 - ()", "", ""},
		{"", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Detect(tc.in); got != tc.want {
				t.Errorf("Detect(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := NonLatin(tc.in); got != tc.nonLatin {
				t.Errorf("NonLatin(%q) = %q, want %q", tc.in, got, tc.nonLatin)
			}
		})
	}
}
