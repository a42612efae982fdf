package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Phases of TestOutage. A request is labelled with the phase when it
// starts and when it ends; only a request that starts and ends in
// phaseDown ran wholly while the server was stopped.
const (
	phaseUp         int32 = iota
	phaseStopping         // Stop called: the server may still answer
	phaseDown             // Stop returned: the server is gone
	phaseRestarting       // Start called: the server may answer already
	phaseRestarted        // Start returned: the server answers
)

// TestOutage stops the Redis server by PID while requests run, then
// starts it again. Requests that run wholly during the outage must be
// answered 503 or 401, never 200, and nothing may panic; once the server
// is back, the same session works again without any intervention: the
// clients reconnect and the scripts are loaded again.
func TestOutage(t *testing.T) {
	srv := testenv.StartRedis(t) // stopped and started by PID; keeps its data across a restart
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Short timeouts so that requests fail fast while the server is down.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	opt.PoolTimeout, opt.MaxRetries = 500*time.Millisecond, 1
	rdb := redis.NewClient(opt)
	defer rdb.Close()

	b := redisBuilder(rdb, "outage:").TouchInterval(time.Millisecond) // every request also writes
	a := newApp(t, b)
	ctx := context.Background()
	if err := a.m.Register(ctx, newMember("ann@example.com"), "password"); err != nil {
		t.Fatal(err)
	}
	br := newBrowser()
	if res := br.login(a, "ann@example.com", "password", true); res.StatusCode != http.StatusNoContent {
		t.Fatalf("login: %d", res.StatusCode)
	}
	if code, _ := br.me(a); code != http.StatusOK {
		t.Fatalf("before the outage: %d", code)
	}

	var (
		phase   atomic.Int32
		mu      sync.Mutex
		counts  = map[string]int{} // "start-end-status" → requests
		panics  []any
		stop    = make(chan struct{})
		workers sync.WaitGroup
	)
	request := func() (code int) {
		defer func() {
			if p := recover(); p != nil {
				mu.Lock()
				panics = append(panics, p)
				mu.Unlock()
				code = -1
			}
		}()
		r := httptest.NewRequest("GET", "/me", nil)
		r.RemoteAddr = clientAddr
		r.Header.Set("User-Agent", "redisstore-test-browser/1.0")
		for name, v := range br.clone().cookies {
			r.AddCookie(&http.Cookie{Name: name, Value: v})
		}
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, r)
		return w.Code
	}
	count := func(start, end int32, code int) int {
		mu.Lock()
		defer mu.Unlock()
		return counts[fmt.Sprint(start, "-", end, "-", code)]
	}
	for range 4 {
		workers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := phase.Load()
				code := request()
				end := phase.Load()
				mu.Lock()
				counts[fmt.Sprint(start, "-", end, "-", code)]++
				mu.Unlock()
			}
		})
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		workers.Wait()
	}()

	waitFor(t, "successful requests before the outage", func() error {
		if n := count(phaseUp, phaseUp, http.StatusOK); n < 20 {
			return fmt.Errorf("%d so far", n)
		}
		return nil
	})
	phase.Store(phaseStopping)
	srv.Stop(t)
	phase.Store(phaseDown)
	waitFor(t, "requests during the outage", func() error {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, code := range []int{http.StatusServiceUnavailable, http.StatusUnauthorized} {
			n += counts[fmt.Sprint(phaseDown, "-", phaseDown, "-", code)]
		}
		if n < 20 {
			return fmt.Errorf("%d so far", n)
		}
		return nil
	})
	phase.Store(phaseRestarting)
	srv.Start(t)
	phase.Store(phaseRestarted)
	waitFor(t, "a successful request after the restart", func() error {
		if count(phaseRestarted, phaseRestarted, http.StatusOK) == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	close(stop)
	workers.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests by phase at start-end and status: %v", counts)
	if len(panics) > 0 {
		t.Errorf("requests panicked: %v", panics)
	}
	for key, n := range counts {
		var start, end int32
		var code int
		if _, err := fmt.Sscanf(key, "%d-%d-%d", &start, &end, &code); err != nil {
			t.Fatal(err)
		}
		switch {
		case code != http.StatusOK && code != http.StatusServiceUnavailable && code != http.StatusUnauthorized:
			t.Errorf("%d requests answered %d (phases %d to %d)", n, code, start, end)
		case start == phaseDown && end == phaseDown && code == http.StatusOK:
			t.Errorf("%d requests made wholly during the outage answered 200", n)
		}
	}
	// After the recovery, the session works on every request: nothing was
	// deleted or cleared during the outage.
	for i := range 20 {
		if code, _ := br.me(a); code != http.StatusOK {
			t.Fatalf("request %d after the recovery: %d", i, code)
		}
	}
}
