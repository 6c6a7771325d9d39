package compress

import (
	"bytes"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	tests := []struct{ ae, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"gzip, deflate, br", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"zstd, gzip", "zstd"},
		{"br;q=0.5, gzip;q=0.8", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"*", "br"},
		{"*;q=0.5, gzip;q=0.9", "gzip"},
		{"*, br;q=0", "zstd"},
		{"gzip;q=0", ""},
		{"GZIP;Q=1", "gzip"},
		{"br;q=abc, gzip", "gzip"},
		{"br;q=2, gzip", "gzip"},
		{"deflate", ""},
		{" br ; q=0.9 ,zstd;q=0.9", "br"},
	}
	for _, tt := range tests {
		t.Run(tt.ae, func(t *testing.T) {
			t.Parallel()
			if got := Negotiate(tt.ae); got != tt.want {
				t.Errorf("Negotiate(%q) = %q, want %q", tt.ae, got, tt.want)
			}
		})
	}
}

func TestCompressible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ct   string
		want bool
	}{
		{"text/html; charset=utf-8", true},
		{"TEXT/CSS", true},
		{"application/json", true},
		{"application/problem+json", true},
		{"application/javascript", true},
		{"image/svg+xml", true},
		{"application/wasm", true},
		{"application/xml", true},
		{"image/png", false},
		{"image/jpeg", false},
		{"video/mp4", false},
		{"application/zip", false},
		{"application/octet-stream", false},
		{"font/woff2", false},
		{"", false},
		{"text/plain; charset=\"broken", true},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			t.Parallel()
			if got := Compressible(tt.ct); got != tt.want {
				t.Errorf("Compressible(%q) = %v, want %v", tt.ct, got, tt.want)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("<p>rampart compresses text</p>\n", 500))
	for _, coding := range []string{Brotli, Zstd, Gzip} {
		t.Run(coding, func(t *testing.T) {
			t.Parallel()
			enc, err := Encode(coding, body)
			if err != nil {
				t.Fatal(err)
			}
			if len(enc) >= len(body)/5 {
				t.Errorf("%s: %d bytes from %d, expected much smaller", coding, len(enc), len(body))
			}
			dec, err := Decode(coding, enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, body) {
				t.Fatal("decoded body differs")
			}
		})
	}
	if _, err := Encode("deflate", body); err == nil {
		t.Error("unknown coding accepted")
	}
}

func TestVariantETag(t *testing.T) {
	t.Parallel()
	tests := []struct{ etag, coding, want string }{
		{`"abc"`, "br", `"abc-br"`},
		{`W/"abc"`, "gzip", `W/"abc-gzip"`},
		{"", "br", ""},
		{`"abc"`, "", `"abc"`},
	}
	for _, tt := range tests {
		if got := VariantETag(tt.etag, tt.coding); got != tt.want {
			t.Errorf("VariantETag(%q, %q) = %q, want %q", tt.etag, tt.coding, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"gzip, br;q=0.5", "*;q=0", "zstd;q=1.0, identity;q=0", ";;;,,,q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ae string) {
		switch got := Negotiate(ae); got {
		case "", Brotli, Zstd, Gzip:
		default:
			t.Fatalf("Negotiate(%q) = %q", ae, got)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	body := []byte(strings.Repeat(`{"name": "rampart", "kind": "edge", "ok": true}`+"\n", 2000))
	for _, coding := range []string{Brotli, Zstd, Gzip} {
		b.Run(coding, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Encode(coding, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
