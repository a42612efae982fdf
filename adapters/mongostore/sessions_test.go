package mongostore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
)

// TestConcurrentSaveOfNewSession races Saves of one new key: every Save
// succeeds (an upsert that loses the race to insert is retried as a
// replace) and one of them is what is stored.
func TestConcurrentSaveOfNewSession(t *testing.T) {
	db := migratedDB(t)
	s := mongostore.NewSessions(db)
	now := time.Now().UTC()
	for round := range 10 {
		key := fmt.Sprintf("race-%d", round)
		const n = 8
		errs := concurrently(n, func(i int) error {
			return s.Save(ctx(t), &loginkit.Session{
				Key: key, UserID: fmt.Sprintf("user-%d", i), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: Save %d: %v", round, i, err)
			}
		}
		got, err := s.Get(ctx(t), key)
		if err != nil {
			t.Fatalf("round %d: Get: %v", round, err)
		}
		var userID string
		for i := range n {
			if got.UserID == fmt.Sprintf("user-%d", i) {
				userID = got.UserID
			}
		}
		if userID == "" {
			t.Errorf("round %d: stored session belongs to %q, none of the savers", round, got.UserID)
		}
	}
}
