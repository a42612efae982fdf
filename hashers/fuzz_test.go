package hashers

import (
	"context"
	"errors"
	"testing"

	"github.com/loginkit/loginkit"
)

// fuzzHasher verifies with tiny limits, so that no fuzzed string can cost
// more than a few milliseconds.
func fuzzHasher() *Multi {
	return Must(New(SchemePBKDF2SHA256, Iterations(100), WithLimits(Limits{
		MaxMemoryKiB: 1024, MaxTime: 2, MaxParallelism: 2, MaxBcryptCost: 5, MaxIterations: 2000,
	})))
}

// fuzzPassword is never the password of a seed hash, so no input may
// match it.
const fuzzPassword = "fuzz password \u00e9"

func knownErr(err error) bool {
	return errors.Is(err, loginkit.ErrMismatch) || errors.Is(err, loginkit.ErrUnknownHashFormat) ||
		errors.Is(err, loginkit.ErrUnsafeHashParams)
}

// FuzzVerify checks that no hash string panics, matches a password it was
// not made from, or gives an error outside the hasher sentinels. Seeds
// are in testdata/fuzz/FuzzVerify (real hashes of other passwords,
// hostile and malformed strings).
func FuzzVerify(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	h := fuzzHasher()
	f.Fuzz(func(t *testing.T, enc string) {
		rehash, err := h.Verify(context.Background(), fuzzPassword, enc)
		if err == nil || rehash {
			t.Fatalf("Verify(%q) = %v, %v; a string not made from the password matched", enc, rehash, err)
		}
		if !knownErr(err) {
			t.Fatalf("Verify(%q) = %v; want a hasher sentinel", enc, err)
		}
	})
}

// FuzzIdentify checks that Identify never panics and agrees with Verify:
// a string Identify cannot read is one Verify cannot read either.
func FuzzIdentify(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	h := fuzzHasher()
	f.Fuzz(func(t *testing.T, enc string) {
		scheme, err := Identify(enc)
		if err == nil && scheme == "" {
			t.Fatalf("Identify(%q) = empty scheme, nil", enc)
		}
		if err != nil && !errors.Is(err, loginkit.ErrUnknownHashFormat) && !errors.Is(err, loginkit.ErrUnsafeHashParams) {
			t.Fatalf("Identify(%q) = %v; want ErrUnknownHashFormat or ErrUnsafeHashParams", enc, err)
		}
		if errors.Is(err, loginkit.ErrUnknownHashFormat) {
			if _, verr := h.Verify(context.Background(), fuzzPassword, enc); !errors.Is(verr, loginkit.ErrUnknownHashFormat) {
				t.Fatalf("Identify(%q) = %v but Verify = %v", enc, err, verr)
			}
		}
	})
}
