package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
)

func newSession(key, userID string, expires time.Time) *loginkit.Session {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &loginkit.Session{
		Key: key, UserID: userID,
		CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now,
		ExpiresAt: expires, AbsoluteExpiresAt: now.Add(30 * 24 * time.Hour),
		Fresh: true, Version: 1, Fingerprint: "fp", IP: "192.0.2.1", UserAgent: "test",
	}
}

// TestSessionHotPathRoundTrips checks that reading a session is exactly
// one command, and that saving an existing one (a "last seen" refresh) is
// exactly one round trip: a pipeline of SET and the index script.
func TestSessionHotPathRoundTrips(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(e.prefix(t)))
	s := newSession("k1", "u1", time.Now().Add(time.Hour))
	if err := st.Save(ctx, s); err != nil { // also loads the script on the server
		t.Fatal(err)
	}
	e.check.counts()

	if _, err := st.Get(ctx, s.Key); err != nil {
		t.Fatal(err)
	}
	if cmds, pipes, _, _ := e.check.counts(); cmds != 1 || pipes != 0 {
		t.Errorf("Get: %d commands and %d pipelines, want 1 command", cmds, pipes)
	}
	if _, err := st.Get(ctx, "missing"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	if cmds, pipes, _, _ := e.check.counts(); cmds != 1 || pipes != 0 {
		t.Errorf("Get of a missing session: %d commands and %d pipelines, want 1 command", cmds, pipes)
	}

	s.LastSeenAt = time.Now()
	s.ExpiresAt = time.Now().Add(2 * time.Hour)
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	cmds, pipes, pipelined, names := e.check.counts()
	if cmds != 0 || pipes != 1 || pipelined != 2 {
		t.Errorf("Save: %d commands, %d pipelines of %d commands in all; want 1 pipeline of 2", cmds, pipes, pipelined)
	}
	if !slices.Equal(names, []string{"set", "evalsha"}) {
		t.Errorf("Save pipeline = %v, want [set evalsha]", names)
	}
}

// TestSessionNativeExpiry checks that records and indexes carry Redis
// expiries, that an index expires with its longest-lived member and is
// trimmed of expired ones, and that nothing is left to sweep.
func TestSessionNativeExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.prefix(t)
	st := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(p))
	rec := func(key string) string { return p + "s:" + key }
	index := p + "{u:u1}:sessions"
	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := e.raw.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if got > want || got < want-time.Minute {
			t.Errorf("%s: PTTL %v, want about %v", what, got, want)
		}
	}

	a := newSession("a", "u1", time.Now().Add(time.Hour))
	b := newSession("b", "u1", time.Now().Add(3*time.Hour))
	for _, s := range []*loginkit.Session{a, b} {
		if err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	near("session a", pttl(rec("a")), time.Hour)
	near("session b", pttl(rec("b")), 3*time.Hour)
	near("index", pttl(index), 3*time.Hour)

	// Sliding a forward moves its record's expiry; the index keeps the later one.
	a.ExpiresAt = time.Now().Add(2 * time.Hour)
	if err := st.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	near("session a after refresh", pttl(rec("a")), 2*time.Hour)
	near("index after refresh of a", pttl(index), 3*time.Hour)

	// A member whose score has passed is trimmed by the next write.
	if err := e.raw.ZAdd(ctx, index, redisZ(time.Now().Add(-time.Second), "ghost")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.raw.ZCard(ctx, index).Result(); n != 2 {
		t.Errorf("index has %d members after a write, want 2 (expired member trimmed)", n)
	}

	// Saving a session with an ExpiresAt in the past removes it.
	b.ExpiresAt = time.Now().Add(-time.Minute)
	if err := st.Save(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.raw.Exists(ctx, rec("b")).Result(); n != 0 {
		t.Error("session saved with a past ExpiresAt is still stored")
	}
	if _, err := e.raw.ZScore(ctx, index, "b").Result(); err == nil {
		t.Error("session saved with a past ExpiresAt is still in its user's index")
	}
	// Removing members leaves the index's expiry alone: it may outlive
	// its members, never the other way round.
	if d := pttl(index); d < 2*time.Hour-time.Minute {
		t.Errorf("index after b expired: PTTL %v, shorter than its remaining member's 2h", d)
	}

	if n, err := st.DeleteExpired(ctx); n != 0 || err != nil {
		t.Errorf("DeleteExpired = %d, %v; want 0, nil", n, err)
	}
	// Deleting the last session leaves no index behind.
	if err := st.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := e.keys(p); len(keys) != 0 {
		t.Errorf("keys left after deleting every session: %v", keys)
	}
}

// TestSessionIndexRepairs checks that readers ignore and drop index
// members whose session is gone or belongs to another user, and that
// DeleteByUser touches only the user's own sessions.
func TestSessionIndexRepairs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.prefix(t)
	st := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(p))
	exp := time.Now().Add(time.Hour)
	for _, s := range []*loginkit.Session{newSession("a", "u1", exp), newSession("b", "u1", exp), newSession("c", "u1", exp)} {
		if err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// a disappears behind the store's back; c moves to user u2.
	if err := e.raw.Del(ctx, p+"s:a").Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, newSession("c", "u2", exp)); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListByUser(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Key != "b" {
		t.Fatalf("ListByUser(u1) = %v, want [b]", keysOf(list))
	}
	members, _ := e.raw.ZRange(ctx, p+"{u:u1}:sessions", 0, -1).Result()
	if !slices.Equal(members, []string{"b"}) {
		t.Errorf("u1's index after ListByUser = %v, want [b]", members)
	}
	if list, _ := st.ListByUser(ctx, "u2"); len(list) != 1 || list[0].Key != "c" {
		t.Errorf("ListByUser(u2) = %v, want [c]", keysOf(list))
	}

	// Put the stale members back, then delete u1's sessions: only b goes.
	if err := e.raw.ZAdd(ctx, p+"{u:u1}:sessions", redisZ(exp, "a"), redisZ(exp, "c")).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := st.DeleteByUser(ctx, "u1", "")
	if err != nil || n != 1 {
		t.Fatalf("DeleteByUser(u1) = %d, %v; want 1, nil", n, err)
	}
	if _, err := st.Get(ctx, "c"); err != nil {
		t.Errorf("u2's session after DeleteByUser(u1): %v", err)
	}
	if n, _ := e.raw.Exists(ctx, p+"{u:u1}:sessions").Result(); n != 0 {
		t.Error("u1's index still exists after all its sessions were deleted")
	}
}

// TestSessionUndecodable checks that a value the codec cannot read is
// reported as not found rather than as a failure.
func TestSessionUndecodable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.prefix(t)
	st := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(p))
	if err := e.raw.Set(ctx, p+"s:bad", `{"user_id":"u1"}`, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.raw.ZAdd(ctx, p+"{u:u1}:sessions", redisZ(time.Now().Add(time.Minute), "bad")).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "bad"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Get(undecodable) = %v, want ErrNotFound", err)
	}
	if list, err := st.ListByUser(ctx, "u1"); err != nil || len(list) != 0 {
		t.Errorf("ListByUser with an undecodable session = %v, %v; want none", keysOf(list), err)
	}
	if err := st.Delete(ctx, "bad"); err != nil {
		t.Errorf("Delete(undecodable) = %v", err)
	}
	if n, _ := e.raw.Exists(ctx, p+"s:bad").Result(); n != 0 {
		t.Error("Delete left the undecodable session")
	}
}

// TestSessionCanceledContext checks that no command is sent for a
// context that is already done, and that the context's error is reported.
func TestSessionCanceledContext(t *testing.T) {
	e := newEnv(t)
	st := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(e.prefix(t)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.check.counts()
	s := newSession("k", "u", time.Now().Add(time.Hour))
	_, errGet := st.Get(ctx, "k")
	_, errList := st.ListByUser(ctx, "u")
	_, errDelUser := st.DeleteByUser(ctx, "u", "")
	_, errExpired := st.DeleteExpired(ctx)
	wantCanceled(t, e, map[string]error{
		"Save": st.Save(ctx, s), "Get": errGet, "Delete": st.Delete(ctx, "k"),
		"ListByUser": errList, "DeleteByUser": errDelUser, "DeleteExpired": errExpired,
	})
}

// TestPrefixes checks that stores with different prefixes do not see each
// other's data, and that a prefix that would break hash tags is refused.
func TestPrefixes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	one := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(e.prefix(t)))
	two := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(e.prefix(t)))
	if err := one.Save(ctx, newSession("k", "u", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := two.Get(ctx, "k"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("other prefix: Get = %v, want ErrNotFound", err)
	}
	if n, err := two.DeleteByUser(ctx, "u", ""); n != 0 || err != nil {
		t.Errorf("other prefix: DeleteByUser = %d, %v; want 0, nil", n, err)
	}
	if _, err := one.Get(ctx, "k"); err != nil {
		t.Errorf("Get after another prefix's DeleteByUser: %v", err)
	}
	for _, bad := range []string{"{app}:", "app}", "a{"} {
		s := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(bad))
		if err := s.CheckConfig(); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("WithPrefix(%q): CheckConfig = %v; want ErrConfig", bad, err)
		}
		if _, err := s.Get(ctx, "k"); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("WithPrefix(%q): Get = %v; want ErrConfig", bad, err)
		}
	}
}

func keysOf(list []*loginkit.Session) []string {
	keys := make([]string, len(list))
	for i, s := range list {
		keys[i] = s.Key
	}
	return keys
}
