package loginkit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/loginkit/loginkit"
)

// FuzzRecoveryTokens feeds arbitrary link tokens to every method that
// takes one: each must refuse with ErrInvalidToken (never panic, never
// accept), while a real token stays usable.
func FuzzRecoveryTokens(f *testing.F) {
	f.Add("")
	f.Add(".")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("%00.%00")
	f.Fuzz(func(t *testing.T, token string) {
		ra := newRecoveryApp(t, nil)
		ctx := context.Background()
		if _, err := ra.rc.VerifyReset(ctx, token); !errors.Is(err, loginkit.ErrInvalidToken) {
			t.Fatalf("VerifyReset(%q): %v", token, err)
		}
		if _, err := ra.rc.VerifyConfirmation(ctx, token); !errors.Is(err, loginkit.ErrInvalidToken) {
			t.Fatalf("VerifyConfirmation(%q): %v", token, err)
		}
		if _, err := ra.rc.ConfirmEmail(ctx, token); !errors.Is(err, loginkit.ErrInvalidToken) {
			t.Fatalf("ConfirmEmail(%q): %v", token, err)
		}
		r := ra.browser().request("POST", "/reset", "")
		if _, err := ra.rc.CompleteReset(nil, r, token, "a password"); !errors.Is(err, loginkit.ErrInvalidToken) {
			t.Fatalf("CompleteReset(%q): %v", token, err)
		}
	})
}
