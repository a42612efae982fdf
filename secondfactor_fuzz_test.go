package loginkit

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func fuzzFactorConfig(t testing.TB) *factorConfig {
	k, err := deriveFactorKey(bytes.Repeat([]byte{3}, SecondFactorKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return &factorConfig{keys: []factorKey{k}}
}

// FuzzOpenSealedSecret checks that opening a sealed TOTP secret (bytes
// from the database, or a value from a session) never panics, that only
// what seal made opens, and that a sealed value opens only for its own
// user and purpose.
func FuzzOpenSealedSecret(f *testing.F) {
	fc := fuzzFactorConfig(f)
	good := fc.seal(sealPurposeTOTP, "ann", []byte("12345678901234567890"))
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{sealedFormatV1})
	f.Add(append([]byte{2}, good[1:]...))
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, sealed []byte) {
		p, err := fc.open(sealPurposeTOTP, "ann", sealed)
		if err != nil {
			if p != nil {
				t.Fatalf("open failed with a result: %x", p)
			}
			return
		}
		if !bytes.Equal(sealed, good) && len(sealed) == len(good) && bytes.Equal(sealed[:26], good[:26]) {
			t.Fatalf("a changed ciphertext opened: %x", sealed)
		}
		if _, err := fc.open(sealPurposeTOTP, "bob", sealed); err == nil {
			t.Fatal("a secret sealed for ann opened for bob")
		}
		if _, err := fc.open(sealPurposeEnrolment, "ann", sealed); err == nil {
			t.Fatal("a TOTP secret opened as an enrolment")
		}
		s := fc.sealString(sealPurposeEnrolment, "ann", p)
		if q, err := fc.openString(sealPurposeEnrolment, "ann", s); err != nil || !bytes.Equal(p, q) {
			t.Fatalf("sealString/openString round trip: %x, %v", q, err)
		}
	})
}

// FuzzTOTPCode checks that a typed TOTP code, whatever it is, never
// panics the check, and is accepted only when it is the code of the
// current step or of one step either way.
func FuzzTOTPCode(f *testing.F) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1_800_000_000, 0)
	want := map[string]int64{}
	for d := int64(-1); d <= 1; d++ {
		c, err := totpCode(secret, totpStep(now)+d)
		if err != nil {
			f.Fatal(err)
		}
		want[c] = totpStep(now) + d
		f.Add(c)
		f.Add(" " + c[:3] + " " + c[3:] + "\t")
	}
	for _, s := range []string{"", "000000", "1234567", "12345", "١٢٣٤٥٦", "12 34 5 6", strings.Repeat("9", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		step, err := matchTOTP(secret, code, now)
		if err != nil {
			return
		}
		c := strings.Join(strings.Fields(code), "")
		if w, ok := want[c]; !ok || w != step {
			t.Fatalf("code %q accepted for step %d; the valid codes are %v", code, step, want)
		}
	})
}

// FuzzRecoveryCode checks that normalising a typed recovery code never
// panics, is idempotent, and that every code newRecoveryCode makes
// survives the way users type it.
func FuzzRecoveryCode(f *testing.F) {
	for range 3 {
		f.Add(newRecoveryCode())
	}
	f.Add("ABCDE-FGHJK")
	f.Add(" abcde fghjk ")
	f.Add("")
	f.Add("é-é")
	f.Fuzz(func(t *testing.T, code string) {
		n := normalizeRecoveryCode(code)
		if normalizeRecoveryCode(n) != n {
			t.Fatalf("normalizeRecoveryCode is not idempotent on %q", code)
		}
		if strings.ContainsAny(n, "- \t") {
			t.Fatalf("normalised %q still has separators: %q", code, n)
		}
		fresh := newRecoveryCode()
		for _, typed := range []string{fresh, strings.ToUpper(fresh), strings.ReplaceAll(fresh, "-", " ")} {
			if normalizeRecoveryCode(typed) != strings.ReplaceAll(fresh, "-", "") {
				t.Fatalf("%q typed as %q does not normalise back", fresh, typed)
			}
		}
	})
}
