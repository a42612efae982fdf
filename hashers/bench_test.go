package hashers

import (
	"context"
	"runtime"
	"testing"
)

// defaults returns every scheme at its default cost.
func defaults() []*Multi {
	return []*Multi{Default(), Must(New(SchemeBcrypt)), Must(New(SchemeScrypt)), Must(New(SchemePBKDF2SHA256)), Must(New(SchemePBKDF2SHA512))}
}

// BenchmarkHash measures Hash per scheme at its default cost.
func BenchmarkHash(b *testing.B) {
	for _, h := range defaults() {
		b.Run(h.Scheme(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures Verify per scheme at its default cost.
func BenchmarkVerify(b *testing.B) {
	for _, h := range defaults() {
		b.Run(h.Scheme(), func(b *testing.B) {
			enc, err := h.Hash(context.Background(), "correct horse battery staple")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Verify(context.Background(), "correct horse battery staple", enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyParallel runs Verify of the default Argon2id hash from
// many goroutines (8 per CPU) against concurrency bounds of 1 and
// GOMAXPROCS: throughput stays at the bound's, and at most that many
// 19 MiB computations are alive at once, however many callers wait.
func BenchmarkVerifyParallel(b *testing.B) {
	for _, n := range []int{1, runtime.GOMAXPROCS(0)} {
		h := Must(New(SchemeArgon2id, Concurrency(n)))
		enc, err := h.Hash(context.Background(), "correct horse battery staple")
		if err != nil {
			b.Fatal(err)
		}
		b.Run("concurrency="+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := h.Verify(context.Background(), "correct horse battery staple", enc); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRefuseHostile measures the refusal of hashes with absurd
// parameters: parsing only, no hashing.
func BenchmarkRefuseHostile(b *testing.B) {
	h := Default()
	b.ReportAllocs()
	for b.Loop() {
		for _, enc := range hostile {
			if _, err := h.Verify(context.Background(), "pw", enc); err == nil {
				b.Fatal("hostile hash accepted")
			}
		}
	}
}

// BenchmarkIdentify measures Identify on a default Argon2id hash.
func BenchmarkIdentify(b *testing.B) {
	enc, _ := Default().Hash(context.Background(), "pw")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Identify(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
