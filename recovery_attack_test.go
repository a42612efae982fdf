package loginkit_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/loginkit/loginkit/ratelimit"
	"github.com/loginkit/loginkit/recovery"
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

// TestResetClientLimitNotBypassedByRotatingIPv6Addresses: a client holding
// an IPv6 /64 (what one home line or one cloud VM gets) has 2^64
// addresses; the per-client limit must count the prefix, not each
// address, or it limits nothing.
func TestResetClientLimitNotBypassedByRotatingIPv6Addresses(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) {
		o.ResetPerClient = ratelimit.Rate{Count: 3, Per: time.Hour}
	})
	b := ra.browser()
	limited := 0
	for i := range 6 {
		b.addr = fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)
		if res := ra.forgot(b, fmt.Sprintf("nobody%d", i)); res.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 3 {
		t.Fatalf("6 reset requests from one IPv6 /64: %d limited, want 3 (limit 3)", limited)
	}
	// Another /64 has its own count, and IPv4 clients are counted per
	// address.
	b.addr = "[2001:db8:1:3::1]:443"
	if res := ra.forgot(b, "nobody-else"); res.StatusCode != http.StatusOK {
		t.Fatalf("another /64: %d", res.StatusCode)
	}
	b.addr = "192.0.2.200:1"
	if res := ra.forgot(b, "nobody-v4"); res.StatusCode != http.StatusOK {
		t.Fatalf("an IPv4 client: %d", res.StatusCode)
	}
}
