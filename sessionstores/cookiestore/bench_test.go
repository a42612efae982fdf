package cookiestore_test

import (
	"testing"
	"time"

	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// BenchmarkSeal seals a typical session (see typical) and reports the
// sealed size.
func BenchmarkSeal(b *testing.B) {
	s := newStore(b, testKey(1))
	sess := typical(time.Now())
	b.ReportAllocs()
	var v string
	for b.Loop() {
		var err error
		if v, err = s.Seal(sess); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(v)), "bytes/cookie")
}

// BenchmarkOpen opens a typical sealed session, the work a cookie session
// adds to every authenticated request.
func BenchmarkOpen(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []cookiestore.Option
	}{
		{"current-key", nil},
		{"old-key", nil}, // sealed under an old key of a rotated store
	} {
		b.Run(bc.name, func(b *testing.B) {
			sealer := newStore(b, testKey(1))
			opener := sealer
			if bc.name == "old-key" {
				opener = newStore(b, testKey(2), cookiestore.WithOldKeys(testKey(3), testKey(1)))
			}
			v, err := sealer.Seal(typical(time.Now()))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := opener.Open(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenParallel opens concurrently, as a busy server does.
func BenchmarkOpenParallel(b *testing.B) {
	s := newStore(b, testKey(1))
	v, err := s.Seal(typical(time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Open(v); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOpenGarbage measures how cheaply a forged value is refused.
func BenchmarkOpenGarbage(b *testing.B) {
	s := newStore(b, testKey(1))
	v, err := s.Seal(typical(time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	forged := []byte(v)
	forged[len(forged)/2] ^= 1
	fv := string(forged)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(fv); err == nil {
			b.Fatal("forged value opened")
		}
	}
}
