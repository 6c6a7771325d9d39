package reqpath

import "testing"

func BenchmarkNormalise(b *testing.B) {
	for _, bm := range []struct{ name, path string }{
		{"normal", "/static/js/app.3f9c0a71.min.js"},
		{"normal-escaped", "/wiki/%C3%89t%C3%A9_(saison)"},
		{"dot-segments", "/api/../admin/./x//y"},
		{"encoded", "/%61pi/%2e%2e/%61dmin/%3c"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Normalise(bm.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
