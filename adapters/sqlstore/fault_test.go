package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/testenv"
)

// TestPostgresRestart stops a private PostgreSQL server by PID while
// requests run, and starts it again. While it is down every store call
// fails with a wrapped store error (never a panic, never a success, never
// a false ErrNotFound that would log a user out); once it is back, the
// same store values work again without being re-created.
func TestPostgresRestart(t *testing.T) {
	t0 := time.Now()
	srv := testenv.StartPostgres(t)
	t.Logf("private PostgreSQL started in %v", time.Since(t0).Round(time.Millisecond))
	db, err := sqlstore.OpenPostgres(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	if err := sqlstore.Migrate[conformance.Member](ctx, db); err != nil {
		t.Fatal(err)
	}
	users := sqlstore.NewUsers[conformance.Member](db)
	sessions := sqlstore.NewSessions(db)
	tokens := sqlstore.NewTokens(db)

	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}, DisplayName: "Ann"}
	if err := users.Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	sess := &loginkit.Session{Key: "sess", UserID: ann.ID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := sessions.Save(ctx, sess); err != nil {
		t.Fatal(err)
	}

	// calls are the requests the test makes, each with a short deadline so
	// that a call to a server that does not answer cannot hang the test.
	var seq atomic.Int64
	calls := map[string]func(ctx context.Context) error{
		"LoadUser": func(ctx context.Context) error {
			u, err := users.LoadUser(ctx, ann.ID)
			if err == nil && u.DisplayName != "Ann" {
				return fmt.Errorf("LoadUser returned %+v", u)
			}
			return err
		},
		"FindByLogin": func(ctx context.Context) error {
			_, err := users.FindByLogin(ctx, "ANN@example.com")
			return err
		},
		"GetSession": func(ctx context.Context) error {
			_, err := sessions.Get(ctx, "sess")
			return err
		},
		"SaveSession": func(ctx context.Context) error {
			return sessions.Save(ctx, sess.Clone())
		},
		"CreateToken": func(ctx context.Context) error {
			return tokens.Create(ctx, &loginkit.Token{
				Selector: fmt.Sprintf("tok%d", seq.Add(1)), UserID: ann.ID, ExpiresAt: time.Now().Add(time.Hour)})
		},
	}
	call := func(name string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return calls[name](ctx)
	}
	// checkFailure reports an error that is not what an outage should give.
	checkFailure := func(name string, err error) {
		t.Helper()
		if !strings.HasPrefix(err.Error(), "sqlstore: ") {
			t.Errorf("%s during the outage: error %q is not a wrapped store error", name, err)
		}
		for _, wrong := range []error{loginkit.ErrNotFound, loginkit.ErrDuplicate, loginkit.ErrInvalid} {
			if errors.Is(err, wrong) {
				t.Errorf("%s during the outage: error %q matches %v", name, err, wrong)
			}
		}
	}

	for name := range calls {
		if err := call(name); err != nil {
			t.Fatalf("%s before the outage: %v", name, err)
		}
	}

	// Background load across the stop and the start: every call either
	// succeeds or fails with a store error.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bgOK, bgFailed int
	var bgBad []string
	for name := range calls {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := call(name)
				mu.Lock()
				if err == nil {
					bgOK++
				} else {
					bgFailed++
					if !strings.HasPrefix(err.Error(), "sqlstore: ") || errors.Is(err, loginkit.ErrNotFound) || errors.Is(err, loginkit.ErrDuplicate) {
						bgBad = append(bgBad, fmt.Sprintf("%s: %v", name, err))
					}
				}
				mu.Unlock()
			}
		})
	}

	pid := srv.PID()
	t0 = time.Now()
	srv.Stop(t)
	t.Logf("stopped PostgreSQL (PID %d) in %v", pid, time.Since(t0).Round(time.Millisecond))
	for name := range calls {
		err := call(name)
		if err == nil {
			t.Errorf("%s while the server is stopped: want an error, got success", name)
			continue
		}
		checkFailure(name, err)
	}

	t0 = time.Now()
	srv.Start(t)
	t.Logf("started PostgreSQL again (PID %d) in %v", srv.PID(), time.Since(t0).Round(time.Millisecond))
	// The pool may still hold connections the server closed; each is
	// discarded when next used. Within the deadline every call must
	// succeed again, on the same store values.
	var firstErrs []string
	for name := range calls {
		deadline := time.Now().Add(15 * time.Second)
		for {
			err := call(name)
			if err == nil {
				break
			}
			checkFailure(name, err)
			firstErrs = append(firstErrs, fmt.Sprintf("%s: %v", name, err))
			if time.Now().After(deadline) {
				t.Fatalf("%s still fails 15 s after the restart: %v", name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(firstErrs) > 0 {
		t.Logf("calls that failed after the restart before the pool recovered: %d (first: %s)", len(firstErrs), firstErrs[0])
	}
	for range 3 {
		for name := range calls {
			if err := call(name); err != nil {
				t.Errorf("%s after recovery: %v", name, err)
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("background calls: %d succeeded, %d failed with store errors", bgOK, bgFailed)
	if len(bgBad) > 0 {
		t.Errorf("background calls failed with errors that are no store errors or claim a missing or duplicate record (%d), first: %s", len(bgBad), bgBad[0])
	}
	if got, err := users.LoadUser(ctx, ann.ID); err != nil || got.DisplayName != "Ann" {
		t.Errorf("the user after the restart: %+v, %v", got, err)
	}
}
