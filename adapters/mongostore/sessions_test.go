package mongostore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
)

// TestConcurrentSaveOfNewSession races Saves of one new key: every Save
// succeeds (an upsert that loses the race to insert is retried as a
// replace) and one of them is what is stored.
func TestConcurrentSaveOfNewSession(t *testing.T) {
	db := freshDB(t)
	s := mongostore.NewSessions(db)
	if err := mongostore.Migrate(ctx(t), db); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for round := range 10 {
		key := fmt.Sprintf("race-%d", round)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Save(ctx(t), &loginkit.Session{
					Key: key, UserID: fmt.Sprintf("user-%d", i), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
				})
			}()
		}
		wg.Wait()
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
