package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
)

func newToken(selector, userID, purpose string, expires time.Time) *loginkit.Token {
	return &loginkit.Token{
		Selector: selector, ValidatorHash: "vh-" + selector, UserID: userID, Purpose: purpose,
		Version: 1, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), ExpiresAt: expires,
	}
}

// TestConcurrentConsume races many Consume calls for each of several
// tokens: exactly one call per token gets it.
func TestConcurrentConsume(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ts := redisstore.NewTokens(e.rdb, redisstore.WithPrefix(e.prefix(t)))
	const tokens, racers = 10, 50
	for i := range tokens {
		if err := ts.Create(ctx, newToken(fmt.Sprint("sel", i), "u1", loginkit.PurposeRemember, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range tokens {
		sel := fmt.Sprint("sel", i)
		wins, others := race(racers, loginkit.ErrNotFound, func(int) error {
			tok, err := ts.Consume(ctx, sel)
			if err == nil && (tok.Selector != sel || tok.UserID != "u1") {
				return fmt.Errorf("consumed token %+v", tok)
			}
			return err
		})
		if wins != 1 || len(others) > 0 {
			t.Errorf("%s: %d of %d concurrent Consume calls won (want 1); unexpected results: %v", sel, wins, racers, others)
		}
	}
	if list, err := ts.ListByUser(ctx, "u1", ""); err != nil || len(list) != 0 {
		t.Errorf("ListByUser after every token was consumed = %d tokens, %v", len(list), err)
	}
}

// TestTokenIndex checks the per-user token index: native expiry, purpose
// filters, and that a refused duplicate leaves no trace in the other
// user's index.
func TestTokenIndex(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.prefix(t)
	ts := redisstore.NewTokens(e.rdb, redisstore.WithPrefix(p))
	hour := time.Now().Add(time.Hour)
	for _, tok := range []*loginkit.Token{
		newToken("r1", "u1", loginkit.PurposeRemember, hour),
		newToken("r2", "u1", loginkit.PurposeRemember, hour.Add(time.Hour)),
		newToken("p1", "u1", "password-reset", hour),
		newToken("x1", "u2", loginkit.PurposeRemember, hour),
	} {
		if err := ts.Create(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := e.raw.PTTL(ctx, p+"t:r1").Result(); d > time.Hour || d < 59*time.Minute {
		t.Errorf("token PTTL = %v, want about 1h", d)
	}
	if d, _ := e.raw.PTTL(ctx, p+"{u:u1}:tokens").Result(); d > 2*time.Hour || d < 119*time.Minute {
		t.Errorf("token index PTTL = %v, want about 2h", d)
	}
	if err := ts.Create(ctx, newToken("r1", "u2", loginkit.PurposeRemember, hour)); !errors.Is(err, loginkit.ErrDuplicate) {
		t.Fatalf("Create of a taken selector = %v, want ErrDuplicate", err)
	}
	if _, err := e.raw.ZScore(ctx, p+"{u:u2}:tokens", "r1").Result(); err == nil {
		t.Error("refused duplicate was added to the other user's index")
	}
	// An already expired token is not stored, but a live one still blocks its selector.
	if err := ts.Create(ctx, newToken("old", "u1", "x", time.Now().Add(-time.Second))); err != nil {
		t.Fatalf("Create(expired) = %v", err)
	}
	if n, _ := e.raw.Exists(ctx, p+"t:old").Result(); n != 0 {
		t.Error("expired token was stored")
	}
	if err := ts.Create(ctx, newToken("r1", "u1", "x", time.Now().Add(-time.Second))); !errors.Is(err, loginkit.ErrDuplicate) {
		t.Errorf("Create(expired) over a live selector = %v, want ErrDuplicate", err)
	}

	n, err := ts.DeleteByUser(ctx, "u1", loginkit.PurposeRemember)
	if err != nil || n != 2 {
		t.Fatalf("DeleteByUser(u1, remember) = %d, %v; want 2, nil", n, err)
	}
	members, _ := e.raw.ZRange(ctx, p+"{u:u1}:tokens", 0, -1).Result()
	if len(members) != 1 || members[0] != "p1" {
		t.Errorf("u1's token index = %v, want [p1]", members)
	}
	if _, err := ts.Consume(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.raw.Exists(ctx, p+"{u:u1}:tokens").Result(); n != 0 {
		t.Error("Consume left the token in its user's index")
	}
	if _, err := ts.Get(ctx, "x1"); err != nil {
		t.Errorf("u2's token after DeleteByUser(u1): %v", err)
	}
	if n, err := ts.DeleteExpired(ctx); n != 0 || err != nil {
		t.Errorf("DeleteExpired = %d, %v; want 0, nil", n, err)
	}
}

// TestTokenUndecodable checks that a value the codec cannot read is
// reported as not found, and consumed all the same.
func TestTokenUndecodable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.prefix(t)
	ts := redisstore.NewTokens(e.rdb, redisstore.WithPrefix(p))
	if err := e.raw.Set(ctx, p+"t:bad", "\x09garbage", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Get(ctx, "bad"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Get(undecodable) = %v, want ErrNotFound", err)
	}
	if _, err := ts.Consume(ctx, "bad"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Consume(undecodable) = %v, want ErrNotFound", err)
	}
	if n, _ := e.raw.Exists(ctx, p+"t:bad").Result(); n != 0 {
		t.Error("Consume left the undecodable token")
	}
}

func TestTokenCanceledContext(t *testing.T) {
	e := newEnv(t)
	ts := redisstore.NewTokens(e.rdb, redisstore.WithPrefix(e.prefix(t)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.check.counts()
	_, errGet := ts.Get(ctx, "s")
	_, errConsume := ts.Consume(ctx, "s")
	_, errList := ts.ListByUser(ctx, "u", "")
	_, errDelUser := ts.DeleteByUser(ctx, "u", "")
	_, errExpired := ts.DeleteExpired(ctx)
	wantCanceled(t, e, map[string]error{
		"Create": ts.Create(ctx, newToken("s", "u", "p", time.Now().Add(time.Hour))),
		"Get":    errGet, "Consume": errConsume, "Delete": ts.Delete(ctx, "s"),
		"ListByUser": errList, "DeleteByUser": errDelUser, "DeleteExpired": errExpired,
	})
}
