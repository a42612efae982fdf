package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// startCluster starts a throw-away Redis Cluster of three primaries, each
// serving a third of the slots, on free local ports, and returns a
// ClusterClient for it; the servers are stopped when the test ends. It
// needs redis-server 7.0 or later on PATH: without it the test is
// skipped, or fails under CI=true.
func startCluster(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	bin := redisServerBinary(tb)
	const nodes = 3
	dir := tb.TempDir()
	ctx := context.Background()
	addrs := make([]string, nodes)
	buses := make([]int, nodes)
	clients := make([]*redis.Client, nodes)
	for i := range nodes {
		port, bus := freePort(tb), freePort(tb)
		addrs[i], buses[i] = fmt.Sprintf("127.0.0.1:%d", port), bus
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--dir", dir, "--save", "", "--appendonly", "no",
			"--logfile", filepath.Join(dir, fmt.Sprintf("redis-%d.log", i)))
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start redis-server: %v", err)
		}
		tb.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		clients[i] = redis.NewClient(&redis.Options{Addr: addrs[i]})
		tb.Cleanup(func() { _ = clients[i].Close() })
	}
	waitFor(tb, "cluster nodes to answer", func() error {
		for _, c := range clients {
			if err := c.Ping(ctx).Err(); err != nil {
				return err
			}
		}
		return nil
	})
	for i, c := range clients {
		lo, hi := i*16384/nodes, (i+1)*16384/nodes-1
		if err := c.Do(ctx, "cluster", "addslotsrange", lo, hi).Err(); err != nil {
			tb.Fatalf("CLUSTER ADDSLOTSRANGE on %s: %v", addrs[i], err)
		}
		if i > 0 {
			if err := clients[0].Do(ctx, "cluster", "meet", "127.0.0.1", strings.Split(addrs[i], ":")[1], buses[i]).Err(); err != nil {
				tb.Fatalf("CLUSTER MEET: %v", err)
			}
		}
	}
	waitFor(tb, "the cluster to form", func() error {
		for i, c := range clients {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", nodes)) {
				return fmt.Errorf("node %s not ready", addrs[i])
			}
			slots, err := c.ClusterSlots(ctx).Result()
			if err != nil {
				return err
			}
			if len(slots) != nodes {
				return fmt.Errorf("node %s knows %d slot ranges", addrs[i], len(slots))
			}
		}
		return nil
	})
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// redisServerBinary returns the path of redis-server, skipping the test
// when there is none (failing under CI=true).
func redisServerBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not on PATH: this test starts servers of its own"
		if testenv.CI() {
			tb.Fatal(msg + " (CI=true: a missing server is a failure)")
		}
		tb.Skip(msg)
	}
	return bin
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(tb testing.TB, what string, ready func() error) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCluster runs the stores on a real three-primary Redis Cluster, where
// the servers refuse any multi-key command or script whose keys span slots
// (CROSSSLOT) and go-redis splits pipelines between nodes.
func TestCluster(t *testing.T) {
	rdb := startCluster(t)
	ctx := context.Background()
	// Control: the cluster refuses keys of different slots in one command.
	if err := rdb.Del(ctx, "a", "b").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("DEL of keys in two slots = %v, want a CROSSSLOT error", err)
	}
	if err := rdb.Eval(ctx, "return 1", []string{"a", "b"}).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("EVAL with keys in two slots = %v, want a CROSSSLOT error", err)
	}

	t.Run("SessionsSpreadAndDeleteByUser", func(t *testing.T) {
		st := redisstore.NewSessions(rdb)
		exp := time.Now().Add(time.Hour)
		for u := range 5 {
			for k := range 6 {
				if err := st.Save(ctx, newSession(fmt.Sprintf("s-%d-%d", u, k), fmt.Sprint("user", u), exp)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var mu sync.Mutex
		var withKeys int
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := c.DBSize(ctx).Result()
			if n > 0 {
				mu.Lock()
				withKeys++
				mu.Unlock()
			}
			return err
		})
		if err != nil || withKeys != 3 {
			t.Errorf("keys on %d of 3 primaries (%v): the test does not exercise cross-node pipelines", withKeys, err)
		}
		list, err := st.ListByUser(ctx, "user1")
		if err != nil || len(list) != 6 {
			t.Fatalf("ListByUser = %d sessions, %v; want 6", len(list), err)
		}
		n, err := st.DeleteByUser(ctx, "user1", "s-1-0")
		if err != nil || n != 5 {
			t.Fatalf("DeleteByUser = %d, %v; want 5", n, err)
		}
		if _, err := st.Get(ctx, "s-1-0"); err != nil {
			t.Errorf("kept session: %v", err)
		}
		if _, err := st.Get(ctx, "s-2-3"); err != nil {
			t.Errorf("other user's session: %v", err)
		}
	})

	t.Run("TokensConsumeOnce", func(t *testing.T) {
		ts := redisstore.NewTokens(rdb)
		for i := range 10 {
			if err := ts.Create(ctx, newToken(fmt.Sprint("t", i), "u1", loginkit.PurposeRemember, time.Now().Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := map[string]int{}
		for i := range 10 {
			for range 10 {
				wg.Go(func() {
					if _, err := ts.Consume(ctx, fmt.Sprint("t", i)); err == nil {
						mu.Lock()
						wins[fmt.Sprint("t", i)]++
						mu.Unlock()
					} else if !errors.Is(err, loginkit.ErrNotFound) {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		for i := range 10 {
			if w := wins[fmt.Sprint("t", i)]; w != 1 {
				t.Errorf("token t%d consumed %d times", i, w)
			}
		}
		if list, err := ts.ListByUser(ctx, "u1", ""); err != nil || len(list) != 0 {
			t.Errorf("ListByUser after consuming all = %d, %v", len(list), err)
		}
	})

	t.Run("UsersUnique", func(t *testing.T) {
		us := redisstore.NewUsers[conformance.Member](rdb)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 20 {
			wg.Go(func() {
				err := us.Create(ctx, &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else if !errors.Is(err, loginkit.ErrDuplicate) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d of 20 concurrent registrations succeeded", wins)
		}
		u, err := us.FindByLogin(ctx, "ANN@example.com")
		if err != nil {
			t.Fatal(err)
		}
		u.Username = "ann"
		if err := us.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		if users, total, err := us.List(ctx, loginkit.ListOptions{}); err != nil || total != 1 || len(users) != 1 {
			t.Errorf("List = %d users of %d, %v", len(users), total, err)
		}
		if err := us.Delete(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	})

	// After a restart or failover the servers have no scripts cached:
	// EVALSHA fails with NOSCRIPT and the stores must fall back to EVAL,
	// inside pipelines too.
	t.Run("ScriptCacheFlushed", func(t *testing.T) {
		st, ts := redisstore.NewSessions(rdb), redisstore.NewTokens(rdb)
		us := redisstore.NewUsers[conformance.Member](rdb)
		s := newSession("flush", "flush-user", time.Now().Add(time.Hour))
		if err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		flush := func() {
			t.Helper()
			if err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
				return c.ScriptFlush(ctx).Err()
			}); err != nil {
				t.Fatal(err)
			}
		}
		flush()
		s.ExpiresAt = time.Now().Add(2 * time.Hour)
		if err := st.Save(ctx, s); err != nil {
			t.Errorf("Save after SCRIPT FLUSH: %v", err)
		}
		if score, err := rdb.ZScore(ctx, "loginkit:{u:flush-user}:sessions", "flush").Result(); err != nil || int64(score) != s.ExpiresAt.UnixMilli() {
			t.Errorf("index score after Save = %v, %v; want the new ExpiresAt", score, err)
		}
		flush()
		if err := ts.Create(ctx, newToken("flush", "flush-user", "x", time.Now().Add(time.Hour))); err != nil {
			t.Errorf("token Create after SCRIPT FLUSH: %v", err)
		}
		flush()
		if err := us.Create(ctx, &conformance.Member{Account: loginkit.Account{Email: "flush@example.com"}}); err != nil {
			t.Errorf("user Create after SCRIPT FLUSH: %v", err)
		}
	})

	// The conformance suites, each subtest on a prefix of its own (the
	// cluster is thrown away, so nothing needs cleaning).
	var n atomic.Int64
	prefix := func() redisstore.Option { return redisstore.WithPrefix(fmt.Sprintf("conf%d:", n.Add(1))) }
	t.Run("SessionsConformance", func(t *testing.T) {
		conformance.TestSessions(t, conformance.SessionHarness{
			New:          func(testing.TB) loginkit.SessionStore { return redisstore.NewSessions(rdb, prefix()) },
			Toucher:      true,
			NativeExpiry: true,
		})
	})
	t.Run("TokensConformance", func(t *testing.T) {
		conformance.TestTokens(t, conformance.TokenHarness{
			New:          func(testing.TB) loginkit.TokenStore { return redisstore.NewTokens(rdb, prefix()) },
			NativeExpiry: true,
		})
	})
	t.Run("UsersConformance", func(t *testing.T) {
		conformance.TestUsers(t, conformance.UserHarness[*conformance.Member]{
			New: func(testing.TB) loginkit.UserStore[*conformance.Member] {
				return redisstore.NewUsers[conformance.Member](rdb, prefix())
			},
			Fill:    conformance.FillMember,
			Updater: true,
		})
	})
	t.Run("SecondFactorsConformance", func(t *testing.T) {
		conformance.TestSecondFactors(t, conformance.SecondFactorHarness{
			New: func(testing.TB) loginkit.SecondFactorStore { return redisstore.NewSecondFactors(rdb, prefix()) },
		})
	})

	// The manager on the cluster: remember-me (whose rotation records
	// have selectors of their own), a password change and a logout.
	t.Run("Manager", func(t *testing.T) {
		a := newApp(t, redisBuilder(rdb, "app:"))
		if err := a.m.Register(ctx, newMember("ann@example.com"), "first password"); err != nil {
			t.Fatal(err)
		}
		laptop, phone := newBrowser(), newBrowser()
		for _, br := range []*browser{laptop, phone} {
			if res := br.login(a, "ann@example.com", "first password", true); res.StatusCode != http.StatusNoContent {
				t.Fatalf("login: %d", res.StatusCode)
			}
		}
		remembered := laptop.clone()
		delete(remembered.cookies, "session")
		if code, _ := remembered.me(a); code != http.StatusOK {
			t.Fatalf("login restored from the remember cookie: %d", code)
		}
		if res := phone.do(a.h, "POST", "/password", url.Values{"current": {"first password"}, "next": {"second password"}}); res.StatusCode != http.StatusNoContent {
			t.Fatalf("change password: %d", res.StatusCode)
		}
		if code, _ := laptop.me(a); code != http.StatusUnauthorized {
			t.Errorf("laptop after the password change: %d, want 401", code)
		}
		if code, _ := phone.me(a); code != http.StatusOK {
			t.Errorf("phone after its own password change: %d, want 200", code)
		}
		kept := phone.clone()
		if res := phone.do(a.h, "POST", "/logout", url.Values{}); res.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if code, _ := kept.me(a); code != http.StatusUnauthorized {
			t.Errorf("phone's cookies replayed after logout: %d, want 401", code)
		}
	})
}
