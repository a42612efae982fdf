package mongostore_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ferretDBBin names the FerretDB binary that scripts/services.sh builds
// (see tools/ferretdb); the fault test starts a private server from it.
const ferretDBBin = "LOGINKIT_FERRETDB"

// server is a private FerretDB process.
type server struct {
	bin, addr, dir string
	cmd            *exec.Cmd
}

// start starts the server and waits until it accepts connections.
func (s *server) start(tb testing.TB) {
	tb.Helper()
	s.cmd = exec.Command(s.bin, "-listen", s.addr, "-state-dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", s.bin, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("FerretDB at %s did not start: %v", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness, not an assertion
	}
}

// kill stops the server abruptly, by PID, as a crash would, and waits for
// it to exit.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// freePort returns a TCP port on 127.0.0.1 below 32768 that nothing
// listens on.
func freePort(tb testing.TB) string {
	tb.Helper()
	for range 100 {
		addr := "127.0.0.1:" + strconv.Itoa(20000+rand.IntN(12000))
		l, err := net.Listen("tcp", addr)
		if err == nil {
			l.Close()
			return addr
		}
	}
	tb.Fatal("no free port found")
	return ""
}

// TestServerRestart stops the server (a private FerretDB process, killed by
// PID) while requests run, and restarts it on the same port and data: the
// requests fail during the outage, with errors that are neither
// ErrNotFound nor a panic, and the same store values work again afterwards
// with the data intact.
func TestServerRestart(t *testing.T) {
	bin := testenv.Require(t, ferretDBBin)
	srv := &server{bin: bin, addr: freePort(t), dir: t.TempDir()}
	srv.start(t)
	t.Cleanup(srv.kill)

	cl, err := mongo.Connect(options.Client().
		ApplyURI("mongodb://" + srv.addr + "/").
		SetServerSelectionTimeout(500 * time.Millisecond).
		SetConnectTimeout(500 * time.Millisecond).
		SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	db := cl.Database("fault")
	users := mongostore.NewUsers[conformance.Member](db)
	sessions := mongostore.NewSessions(db)
	tokens := mongostore.NewTokens(db)
	if err := mongostore.Migrate(ctx(t), db); err != nil {
		t.Fatal(err)
	}
	u := &conformance.Member{Account: loginkit.Account{Email: "fault@example.com"}}
	conformance.FillMember(u, 1)
	if err := users.Create(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	sess := &loginkit.Session{Key: "fault-session", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := sessions.Save(ctx(t), sess); err != nil {
		t.Fatal(err)
	}

	// request is what an authenticated request does: load the session,
	// then the user.
	request := func() error {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := sessions.Get(c, sess.Key)
		if err != nil {
			return err
		}
		_, err = users.LoadUser(c, s.UserID)
		return err
	}

	// Requests run throughout, in several goroutines, counting outcomes.
	var ok, failed, notFound atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch err := request(); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, loginkit.ErrNotFound):
					notFound.Add(1)
				default:
					failed.Add(1)
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (ok %d, failed %d, not found %d)", what, ok.Load(), failed.Load(), notFound.Load())
			}
			time.Sleep(10 * time.Millisecond) // polling, not an assertion
		}
	}

	waitFor("requests to succeed before the outage", func() bool { return ok.Load() >= 20 })

	srv.kill()
	failedBefore := failed.Load()
	waitFor("requests to fail during the outage", func() bool { return failed.Load() >= failedBefore+8 })
	okDuring := ok.Load()
	// A direct call during the outage: an error, which the manager turns
	// into a 503, never ErrNotFound (which would log the user out).
	for _, err := range []error{
		request(),
		func() error { _, err := tokens.Consume(ctx(t), "any"); return err }(),
		users.Create(ctx(t), &conformance.Member{Account: loginkit.Account{Email: "outage@example.com"}}),
	} {
		if err == nil || errors.Is(err, loginkit.ErrNotFound) || errors.Is(err, loginkit.ErrDuplicate) {
			t.Errorf("call during the outage: want a server error, got %v", err)
		}
	}
	if ok.Load() != okDuring {
		t.Errorf("requests succeeded with the server down: %d", ok.Load()-okDuring)
	}

	srv.start(t)
	okAfter := ok.Load()
	waitFor("requests to succeed after the restart", func() bool { return ok.Load() >= okAfter+20 })

	// The same store values work again, with the data written before the
	// outage intact, and writes work too.
	got, err := users.LoadUser(ctx(t), u.ID)
	if err != nil {
		t.Fatalf("LoadUser after the restart: %v", err)
	}
	if got.Email != u.Email || got.DisplayName != u.DisplayName || !got.Birthday.Equal(u.Birthday) {
		t.Errorf("user after the restart: want %+v, got %+v", u, got)
	}
	tok := &loginkit.Token{Selector: "after", UserID: u.ID, Purpose: "reset", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := tokens.Create(ctx(t), tok); err != nil {
		t.Fatalf("token Create after the restart: %v", err)
	}
	if _, err := tokens.Consume(ctx(t), "after"); err != nil {
		t.Fatalf("token Consume after the restart: %v", err)
	}
	if err := users.Create(ctx(t), &conformance.Member{Account: loginkit.Account{Email: "FAULT@example.com"}}); !errors.Is(err, loginkit.ErrDuplicate) {
		t.Errorf("duplicate email after the restart: want ErrDuplicate (the unique index survived), got %v", err)
	}
	if n := notFound.Load(); n != 0 {
		t.Errorf("requests answered ErrNotFound: %d; an outage must never look like a missing session", n)
	}
	t.Logf("requests: %d ok, %d failed during the outage", ok.Load(), failed.Load())
}
