package loginkit_test

import (
	"context"
	"testing"
)

// TestResetLinkSentToOldAddressDiesWhenEmailChanges: a reset link mailed
// to the old address (a mailbox the user may have changed away from
// because it was compromised) must not reset the password once the
// account's email has changed.
func TestResetLinkSentToOldAddressDiesWhenEmailChanges(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	u := ra.register("eve", "old-password")
	tok := tokenOf(t, ra.resetLink(ra.browser(), "eve", "eve@example.com"))
	stored, err := ra.users.LoadUser(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored.Email = "eve.new@example.org"
	if err := ra.users.Update(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	ra.wantRefused(ra.browser(), tok)
	ra.browser().mustLogin("eve", "old-password", false)
}
