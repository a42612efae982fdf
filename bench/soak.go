package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/adapters/redisstore"
)

// SoakConfig configures Soak.
type SoakConfig struct {
	// RedisURL is the server both near-cache instances share.
	RedisURL string
	// Duration is how long the load runs (the soak proper: 10 minutes).
	Duration time.Duration
	// Rate is the number of requests per second sent to each of the two
	// stacks (the Redis pair and the memstore baseline).
	Rate int
	// Users is the number of users per stack; each has three browsers.
	Users int
	// Bound is the near-cache's revocation bound (0: the default).
	Bound time.Duration
	// Idle is the session idle timeout: after the load stops, the live
	// sessions must be gone once it has passed.
	Idle time.Duration
	// Log, when not nil, receives progress lines.
	Log io.Writer
}

// SoakSample is the process's state at one moment of the soak.
type SoakSample struct {
	At           time.Duration // since the load began
	RSS          int64         // resident set size, bytes
	Heap         uint64        // live heap after a GC, bytes
	Goroutines   int
	LiveSessions int // session keys in Redis (both instances share them)
	NearEntries  int // near-cache entries, both instances
}

// SoakStack is what one stack did during the soak.
type SoakStack struct {
	Name                    string
	Requests                int64 // every request sent, churn included
	GETs                    int64 // authenticated GETs that were answered 200
	Logins, Logouts, PwSets int64
	Errors                  int64 // transport errors and statuses the script did not expect
	ErrorSamples            []string
	Revocations             int64 // sessions revoked (logouts and password changes)
	// StalePastBound counts requests accepted on a revoked session that
	// began more than the bound after the revocation completed.
	StalePastBound int64
	// OwnAccepted counts requests accepted, after the revocation
	// completed, by the instance that revoked the session: its own writes
	// must take effect on its next request, so this should be 0.
	OwnAccepted int64
	// Delays is, for each revoked session, how long after the revocation
	// completed the other instance (the same one for memstore) first
	// refused it: the start of the first refused request, the instances
	// being checked at once; OwnDelays likewise on the instance that
	// revoked it.
	Delays, OwnDelays []time.Duration
	P50, P99          time.Duration // latency of the authenticated GETs
	Cache             []redisstore.NearCacheStats
}

// SoakReport is the outcome of Soak.
type SoakReport struct {
	Config  SoakConfig
	Stacks  []*SoakStack
	Samples []SoakSample
	// AfterExpiry is the sample taken once the idle timeout has passed
	// after the load stopped; Baseline the one before any login.
	Baseline, AfterExpiry SoakSample
}

// soakApp is one application instance: a manager and its routes on a
// loopback server.
type soakApp struct {
	m    *loginkit.Manager[*User]
	addr string
	stop func()
}

func newSoakApp(b *loginkit.Builder[*User]) (*soakApp, error) {
	m, err := b.Hasher(plainHasher{}).Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).Build()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		soakStatus(w, err)
	})
	mux.Handle("GET /me", m.Required(nameHandler(func(r *http.Request) (string, bool) {
		u, ok := m.CurrentUser(r)
		if !ok {
			return "", false
		}
		return u.Name, true
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { soakStatus(w, m.Logout(w, r)) })
	mux.Handle("POST /password", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		soakStatus(w, m.ChangePassword(w, r, r.FormValue("current"), r.FormValue("next")))
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: m.Middleware(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &soakApp{m: m, addr: "http://" + ln.Addr().String(), stop: func() { _ = srv.Close() }}, nil
}

func soakStatus(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, loginkit.ErrInvalidCredentials), errors.Is(err, loginkit.ErrUnauthorized):
		http.Error(w, err.Error(), http.StatusUnauthorized)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// soakBrowser is one browser of a user: its cookies, and whether it
// believes it is logged in.
type soakBrowser struct {
	cookies  []*http.Cookie
	loggedIn bool
	lastSeen time.Time
}

type soakUser struct {
	mu       sync.Mutex
	name     string
	password string
	browsers [3]soakBrowser
}

// latSamples is the size of the sample of GET latencies a stack keeps.
const latSamples = 100_000

// soakStack drives one stack: its instances, users and counters.
type soakStack struct {
	rep    *SoakStack
	apps   []*soakApp
	users  []*soakUser
	client *http.Client
	bound  time.Duration
	idle   time.Duration

	mu       sync.Mutex
	lat      []time.Duration // at most latSamples
	checkers sync.WaitGroup

	requests, gets, logins, logouts, pwsets, errs, revocations, stale, ownAccepted atomic.Int64
}

func (s *soakStack) fail(format string, args ...any) {
	s.errs.Add(1)
	s.mu.Lock()
	if len(s.rep.ErrorSamples) < 10 {
		s.rep.ErrorSamples = append(s.rep.ErrorSamples, fmt.Sprintf(format, args...))
	}
	s.mu.Unlock()
}

// answered reports whether the request of step got the status want, and
// records a failure when it did not.
func (s *soakStack) answered(step string, code, want int, err error) bool {
	switch {
	case err != nil:
		s.fail("%s: %v", step, err)
	case code != want:
		s.fail("%s: status %d", step, code)
	default:
		return true
	}
	return false
}

// do sends one request with the given cookies and returns the status and
// the cookies the response sets.
func (s *soakStack) do(app *soakApp, method, path string, cookies []*http.Cookie, form url.Values) (int, []*http.Cookie, error) {
	s.requests.Add(1)
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, app.addr+path, body)
	if err != nil {
		return 0, nil, err
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	res, err := s.client.Do(r)
	if err != nil {
		return 0, nil, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, res.Cookies(), nil
}

// merge applies set-cookies to a jar.
func merge(jar, set []*http.Cookie) []*http.Cookie {
	for _, c := range set {
		jar = slices.DeleteFunc(jar, func(o *http.Cookie) bool { return o.Name == c.Name })
		if c.MaxAge >= 0 && c.Value != "" {
			jar = append(jar, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return jar
}

// step runs one scripted action for a random browser of a random user:
// a login when logged out, else mostly authenticated GETs, sometimes a
// logout or a password change.
func (s *soakStack) step(rng *rand.Rand) {
	u := s.users[rng.IntN(len(s.users))]
	u.mu.Lock()
	defer u.mu.Unlock()
	b := &u.browsers[rng.IntN(len(u.browsers))]
	app := s.apps[rng.IntN(len(s.apps))]
	now := time.Now()
	if b.loggedIn && now.Sub(b.lastSeen) > s.idle*9/10 {
		b.loggedIn = false // its session may have expired: log in again
	}
	if !b.loggedIn {
		code, set, err := s.do(app, "POST", "/login", nil, url.Values{"login": {u.name}, "password": {u.password}})
		if s.answered("login", code, http.StatusNoContent, err) {
			s.logins.Add(1)
			b.cookies, b.loggedIn, b.lastSeen = merge(nil, set), true, time.Now()
		}
		return
	}
	switch p := rng.Float64(); {
	case p < 0.01: // logout
		stolen := slices.Clone(b.cookies)
		code, _, err := s.do(app, "POST", "/logout", b.cookies, url.Values{})
		if !s.answered("logout", code, http.StatusNoContent, err) {
			return
		}
		s.logouts.Add(1)
		b.loggedIn, b.cookies = false, nil
		s.revoked(stolen, app, time.Now())
	case p < 0.012: // password change: every other browser's session is revoked
		next := "pw-" + strconv.FormatUint(rng.Uint64(), 36)
		others := make([][]*http.Cookie, 0, len(u.browsers))
		for i := range u.browsers {
			if o := &u.browsers[i]; o != b && o.loggedIn {
				others = append(others, slices.Clone(o.cookies))
			}
		}
		code, set, err := s.do(app, "POST", "/password", b.cookies, url.Values{"current": {u.password}, "next": {next}})
		if !s.answered("change password", code, http.StatusNoContent, err) {
			return
		}
		done := time.Now()
		s.pwsets.Add(1)
		u.password = next
		b.cookies, b.lastSeen = merge(b.cookies, set), done
		for i := range u.browsers {
			if o := &u.browsers[i]; o != b {
				o.loggedIn, o.cookies = false, nil
			}
		}
		for _, jar := range others {
			s.revoked(jar, app, done)
		}
	default:
		start := time.Now()
		code, set, err := s.do(app, "GET", "/me", b.cookies, nil)
		if !s.answered("GET /me of a logged-in browser", code, http.StatusOK, err) {
			return
		}
		d := time.Since(start)
		n := s.gets.Add(1)
		// A fixed-size uniform sample of the latencies (reservoir
		// sampling), so that the harness's own memory stays flat.
		s.mu.Lock()
		if len(s.lat) < latSamples {
			s.lat = append(s.lat, d)
		} else if i := rng.Int64N(n); i < latSamples {
			s.lat[i] = d
		}
		s.mu.Unlock()
		b.cookies, b.lastSeen = merge(b.cookies, set), time.Now()
	}
}

// revoked checks a revoked session's cookies on every instance until each
// refuses them, recording how long after the revocation that was, then
// checks again a bound later: an acceptance begun past the bound is a
// stale request.
func (s *soakStack) revoked(jar []*http.Cookie, on *soakApp, at time.Time) {
	s.revocations.Add(1)
	s.checkers.Add(1)
	go func() {
		defer s.checkers.Done()
		// Every instance is checked at once, each until it refuses.
		var each sync.WaitGroup
		for _, app := range s.apps {
			each.Add(1)
			go func() {
				defer each.Done()
				for {
					start := time.Now()
					code, _, err := s.do(app, "GET", "/me", jar, nil)
					if err != nil {
						s.fail("replay of a revoked session: %v", err)
						return
					}
					if code == http.StatusOK {
						if start.Sub(at) > s.bound {
							s.stale.Add(1)
						}
						if app == on {
							s.ownAccepted.Add(1)
						}
						if start.Sub(at) > 20*s.bound {
							return
						}
						time.Sleep(200 * time.Microsecond)
						continue
					}
					if code != http.StatusUnauthorized {
						s.fail("replay of a revoked session: status %d", code)
					}
					s.mu.Lock()
					if app == on && len(s.apps) > 1 {
						s.rep.OwnDelays = append(s.rep.OwnDelays, start.Sub(at))
					} else {
						s.rep.Delays = append(s.rep.Delays, start.Sub(at))
					}
					s.mu.Unlock()
					return
				}
			}()
		}
		each.Wait()
		time.Sleep(s.bound + s.bound/10)
		for _, app := range s.apps {
			start := time.Now()
			if code, _, err := s.do(app, "GET", "/me", jar, nil); err == nil && code == http.StatusOK && start.Sub(at) > s.bound {
				s.stale.Add(1)
			}
		}
	}()
}

// run drives the stack at rate steps per second until stop is closed.
func (s *soakStack) run(rate int, stop <-chan struct{}) {
	const workers = 16
	tokens := make(chan struct{}, rate)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for range tokens {
				s.step(rng)
			}
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	last, owed := time.Now(), 0.0
loop:
	for {
		select {
		case <-stop:
			break loop
		case now := <-tick.C:
			owed += now.Sub(last).Seconds() * float64(rate)
			last = now
			for ; owed >= 1; owed-- {
				select {
				case tokens <- struct{}{}:
				default: // the workers are behind: drop, do not queue up
				}
			}
		}
	}
	close(tokens)
	wg.Wait()
	s.checkers.Wait()
}

func (s *soakStack) report() *SoakStack {
	r := s.rep
	r.Requests, r.GETs, r.Logins, r.Logouts, r.PwSets = s.requests.Load(), s.gets.Load(), s.logins.Load(), s.logouts.Load(), s.pwsets.Load()
	r.Errors, r.Revocations, r.StalePastBound, r.OwnAccepted = s.errs.Load(), s.revocations.Load(), s.stale.Load(), s.ownAccepted.Load()
	slices.Sort(s.lat)
	if n := len(s.lat); n > 0 {
		r.P50, r.P99 = s.lat[n/2], s.lat[n*99/100]
	}
	slices.Sort(r.Delays)
	slices.Sort(r.OwnDelays)
	return r
}

// Soak runs the soak test: two instances sharing Redis, each with a
// near-cache, and a memstore instance as a baseline, all in this process
// and served over loopback HTTP, under a steady rate of authenticated
// GETs with login, logout and password-change churn. Users are kept in
// process, shared by the two Redis instances as a user database would be.
// It samples memory and goroutines as it goes, then waits for the idle
// timeout so that the live sessions return to their baseline.
func Soak(ctx context.Context, cfg SoakConfig) (*SoakReport, error) {
	if cfg.RedisURL == "" {
		return nil, ErrNoRedis
	}
	if cfg.Bound <= 0 {
		cfg.Bound = redisstore.DefaultNearCacheBound
	}
	if cfg.Users <= 0 {
		cfg.Users = 200
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1000
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Minute
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	opt, err := goredis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	inspect := goredis.NewClient(opt)
	defer inspect.Close()
	prefix := fmt.Sprintf("soak:%d:", time.Now().UnixNano())
	defer dropPrefix(inspect, prefix)

	rep := &SoakReport{Config: cfg}
	transport := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	// The Redis pair: one user database, two instances with a client and
	// near-cache each.
	sharedUsers := memstore.NewUsers[User]()
	var near []*redisstore.Sessions
	pair := &soakStack{rep: &SoakStack{Name: "redisstore + near-cache, 2 instances"}, client: client, bound: cfg.Bound, idle: cfg.Idle}
	for range 2 {
		rdb := goredis.NewClient(opt)
		defer rdb.Close()
		st := redisstore.NewSessions(rdb, redisstore.WithPrefix(prefix),
			redisstore.WithNearCache(redisstore.NearCacheConfig{Bound: cfg.Bound}))
		defer st.Close()
		if s := st.NearCacheStats(); !s.Enabled {
			return nil, fmt.Errorf("near-cache off: %s", s.Reason)
		}
		near = append(near, st)
		app, err := newSoakApp(loginkit.New[*User]().Users(sharedUsers).Sessions(st).Timeouts(cfg.Idle, 24*time.Hour))
		if err != nil {
			return nil, err
		}
		defer app.stop()
		pair.apps = append(pair.apps, app)
	}
	mem := &soakStack{rep: &SoakStack{Name: "memstore, 1 instance (baseline)"}, client: client, bound: cfg.Bound, idle: cfg.Idle}
	memApp, err := newSoakApp(loginkit.New[*User]().Users(memstore.NewUsers[User]()).Sessions(memstore.NewSessions()).Timeouts(cfg.Idle, 24*time.Hour))
	if err != nil {
		return nil, err
	}
	defer memApp.stop()
	mem.apps = []*soakApp{memApp}
	for _, s := range []*soakStack{pair, mem} {
		for i := range cfg.Users {
			u := &soakUser{name: "user" + strconv.Itoa(i), password: "pw-start"}
			acct := &User{Name: u.name}
			acct.Username = u.name
			if err := s.apps[0].m.Register(ctx, acct, u.password); err != nil {
				return nil, err
			}
			s.users = append(s.users, u)
		}
	}

	sample := func(at time.Duration) SoakSample {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := SoakSample{At: at, RSS: rss(), Heap: ms.HeapAlloc, Goroutines: runtime.NumGoroutine()}
		s.LiveSessions = countKeys(inspect, prefix+"s:")
		for _, st := range near {
			s.NearEntries += st.NearCacheStats().Entries
		}
		return s
	}
	rep.Baseline = sample(0)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range []*soakStack{pair, mem} {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(cfg.Rate, stop) }()
	}
	start := time.Now()
	every := max(cfg.Duration/10, time.Second)
	for t := every; ; t += every {
		wait := time.Until(start.Add(min(t, cfg.Duration)))
		select {
		case <-ctx.Done():
			close(stop)
			wg.Wait()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		smp := sample(time.Since(start))
		rep.Samples = append(rep.Samples, smp)
		logf("soak %s: rss %d MiB, heap %d MiB, %d goroutines, %d live sessions, %d near-cache entries; pair %d GETs %d errors %d stale; memstore %d GETs %d errors",
			smp.At.Round(time.Second), smp.RSS>>20, smp.Heap>>20, smp.Goroutines, smp.LiveSessions, smp.NearEntries,
			pair.gets.Load(), pair.errs.Load(), pair.stale.Load(), mem.gets.Load(), mem.errs.Load())
		if t >= cfg.Duration {
			break
		}
	}
	close(stop)
	wg.Wait()
	for _, st := range near {
		pair.rep.Cache = append(pair.rep.Cache, st.NearCacheStats())
	}
	rep.Stacks = []*SoakStack{pair.report(), mem.report()}

	// Let every session expire: the live count must return to baseline.
	deadline := time.Now().Add(cfg.Idle + 30*time.Second)
	for {
		rep.AfterExpiry = sample(time.Since(start))
		if rep.AfterExpiry.LiveSessions <= rep.Baseline.LiveSessions || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	transport.CloseIdleConnections()
	return rep, nil
}

// countKeys counts the keys beginning with prefix.
func countKeys(rdb *goredis.Client, prefix string) int {
	ctx := context.Background()
	n := 0
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	return n
}

// rss reads the process's resident set size from /proc (0 elsewhere).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, len(d)*p/100)]
}

// Markdown writes the report as markdown.
func (r *SoakReport) Markdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "Soak: %s at %d requests/s per stack, %d users × 3 browsers per stack, near-cache bound %s, idle timeout %s, GOMAXPROCS=%d.\n\n",
		c.Duration, c.Rate, c.Users, c.Bound, c.Idle, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "| stack | requests | GETs 200 | logins | logouts | password changes | errors | revocations | stale past bound | accepted by the revoking instance | refused by the other instance after: p50 / p99 / max | by the revoking instance: p50 / max | GET p50 | GET p99 |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|\n")
	for _, s := range r.Stacks {
		own := "—"
		if len(s.OwnDelays) > 0 {
			own = fmt.Sprintf("%s / %s", rnd(pct(s.OwnDelays, 50)), rnd(s.OwnDelays[len(s.OwnDelays)-1]))
		}
		cross := "—"
		if len(s.Delays) > 0 {
			cross = fmt.Sprintf("%s / %s / %s", rnd(pct(s.Delays, 50)), rnd(pct(s.Delays, 99)), rnd(s.Delays[len(s.Delays)-1]))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s | %s |\n",
			s.Name, s.Requests, s.GETs, s.Logins, s.Logouts, s.PwSets, s.Errors, s.Revocations, s.StalePastBound, s.OwnAccepted,
			cross, own, rnd(s.P50), rnd(s.P99))
	}
	fmt.Fprintf(w, "\n(memstore has one instance: its refusal delay is on the instance that revoked.)\n")
	for _, s := range r.Stacks {
		for _, e := range s.ErrorSamples {
			fmt.Fprintf(w, "\n- %s error: %s", s.Name, e)
		}
		for i, cs := range s.Cache {
			ratio := 0.0
			if t := cs.Hits + cs.Misses + cs.Bypassed; t > 0 {
				ratio = 100 * float64(cs.Hits) / float64(t)
			}
			fmt.Fprintf(w, "\nNear-cache of instance %d: %d hits, %d misses, %d reads sent to Redis while untrusted, %d flushes (each connection's first included), hit ratio %.1f%%, %d entries (%d KiB) at the end.\n",
				i+1, cs.Hits, cs.Misses, cs.Bypassed, cs.Flushes, ratio, cs.Entries, cs.MemoryBytes>>10)
		}
	}
	fmt.Fprintf(w, "\n| moment | RSS | heap after GC | goroutines | live sessions (Redis) | near-cache entries |\n|---|---:|---:|---:|---:|---:|\n")
	row := func(name string, s SoakSample) {
		fmt.Fprintf(w, "| %s | %d MiB | %.1f MiB | %d | %d | %d |\n", name, s.RSS>>20, float64(s.Heap)/(1<<20), s.Goroutines, s.LiveSessions, s.NearEntries)
	}
	row("before the load (baseline)", r.Baseline)
	if n := len(r.Samples); n > 0 {
		row("start ("+r.Samples[0].At.Round(time.Second).String()+")", r.Samples[0])
		row("middle ("+r.Samples[n/2].At.Round(time.Second).String()+")", r.Samples[n/2])
		row("end ("+r.Samples[n-1].At.Round(time.Second).String()+")", r.Samples[n-1])
	}
	row("after the idle timeout ("+r.AfterExpiry.At.Round(time.Second).String()+")", r.AfterExpiry)
	fmt.Fprintln(w)
}

func rnd(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
