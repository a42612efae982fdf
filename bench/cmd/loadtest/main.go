// Command loadtest drives each benchmark stack over loopback HTTP and
// prints requests per second and p50/p99 latency as a markdown table.
//
// Every stack is served by a real net/http server on 127.0.0.1 and loaded
// by keep-alive clients in this process. Stacks run interleaved, one
// slice of -duration each, for -rounds rounds, so machine drift affects
// all of them alike; the table reports the median round of each.
//
// With -login it instead measures POST /login at the default argon2id
// cost with -clients concurrent clients, reporting requests per second,
// latency, timed-out logins and the peak resident memory of the process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/bench"
	"github.com/loginkit/loginkit/hashers"
)

func main() {
	var (
		duration = flag.Duration("duration", 3*time.Second, "load per stack per round")
		rounds   = flag.Int("rounds", 3, "interleaved rounds")
		clients  = flag.Int("clients", 32, "concurrent keep-alive clients")
		only     = flag.String("stacks", "", "comma-separated stack names (default all)")
		login    = flag.Bool("login", false, "measure POST /login instead")
		timeout  = flag.Duration("login-timeout", 2*time.Second, "server-side deadline for one login")
		useWrk   = flag.Bool("wrk", false, "generate the GET load with wrk (Debian package wrk) instead of Go clients in this process")
		mix      = flag.Int("mix", 0, "realistic mix: this many live sessions, requested with Zipf-skewed frequencies (Go clients)")
		zipfS    = flag.Float64("zipf", 1.1, "Zipf exponent s (> 1) of the realistic mix")
		soak     = flag.Bool("soak", false, "soak test: two near-cache instances and a memstore baseline under churn for -duration")
		rate     = flag.Int("rate", 2000, "soak: authenticated GETs per second, in total")
		users    = flag.Int("users", 200, "soak: users, each with a few browsers")
		bound    = flag.Duration("bound", 0, "soak: near-cache revocation bound (default redisstore.DefaultNearCacheBound)")
		idle     = flag.Duration("idle", time.Minute, "soak: session idle timeout, after which live sessions return to baseline")
	)
	flag.Parse()
	if *soak {
		if err := soakRun(*duration, *rate, *users, *bound, *idle); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if *mix > 0 {
		if err := mixLoad(*duration, *rounds, *clients, *mix, *zipfS); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if *login {
		if err := loginLoad(*duration, *clients, *timeout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if err := getLoad(*duration, *rounds, *clients, *only, *useWrk); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

// serve starts h on a loopback listener and returns its address.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// load sends requests made by mk from n clients for d and measures them.
// ok decides whether a response counts as a success.
func load(d time.Duration, n int, mk func() *http.Request, ok func(int) bool) result {
	return loadEach(d, n, func(int) *http.Request { return mk() }, ok)
}

// loadEach is load with a request maker told which client asks.
func loadEach(d time.Duration, n int, mk func(client int) *http.Request, ok func(int) bool) result {
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var errs atomic.Int64
	lat := make([][]time.Duration, n)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				start := time.Now()
				resp, err := client.Do(mk(c))
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if !ok(resp.StatusCode) {
					errs.Add(1)
				}
				lat[c] = append(lat[c], time.Since(start))
			}
		}(c)
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := result{errors: errs.Load()}
	if len(all) > 0 {
		r.rps = float64(len(all)) / d.Seconds()
		r.p50 = all[len(all)/2]
		r.p99 = all[len(all)*99/100]
	}
	return r
}

func getLoad(d time.Duration, rounds, clients int, only string, useWrk bool) error {
	redisURL := os.Getenv("LOGINKIT_REDIS_URL")
	type running struct {
		s       bench.Stack
		addr    string
		cookies []*http.Cookie
		results []result
	}
	var stacks []*running
	for _, s := range bench.Stacks() {
		if only != "" && !slices.Contains(strings.Split(only, ","), s.Name) {
			continue
		}
		if s.Redis && redisURL == "" {
			fmt.Fprintf(os.Stderr, "skipping %s: LOGINKIT_REDIS_URL is not set\n", s.Name)
			continue
		}
		h, r, release, err := s.Setup(redisURL)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		defer release()
		addr, stop, err := serve(h)
		if err != nil {
			return err
		}
		defer stop()
		stacks = append(stacks, &running{s: s, addr: addr, cookies: r.Cookies()})
	}
	for round := 0; round < rounds; round++ {
		for _, st := range stacks {
			target := st.addr + "/me"
			if useWrk {
				res, err := wrkLoad(target, st.cookies, d, clients)
				if err != nil {
					return fmt.Errorf("%s: %w", st.s.Name, err)
				}
				st.results = append(st.results, res)
				continue
			}
			res := load(d, clients, func() *http.Request {
				r, _ := http.NewRequest("GET", target, nil)
				for _, c := range st.cookies {
					r.AddCookie(c)
				}
				return r
			}, func(code int) bool { return code == 200 })
			st.results = append(st.results, res)
		}
	}
	var bare, scs float64
	for _, st := range stacks {
		slices.SortFunc(st.results, func(a, b result) int { return int(a.rps - b.rps) })
		m := st.results[len(st.results)/2]
		switch st.s.Name {
		case "bare":
			bare = m.rps
		case "scs-redisstore":
			scs = m.rps
		}
	}
	fmt.Printf("| stack | req/s | vs bare | vs scs-redisstore | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, st := range stacks {
		m := st.results[len(st.results)/2]
		ratio, vsScs := "—", "—"
		if bare > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*m.rps/bare)
		}
		if scs > 0 {
			vsScs = fmt.Sprintf("%.2f×", m.rps/scs)
		}
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %d |\n", st.s.Name, m.rps, ratio, vsScs, round(m.p50), round(m.p99), m.errors)
	}
	gen := "Go clients in the same process"
	if useWrk {
		gen = "wrk (one thread) in a separate process"
	}
	fmt.Printf("\n%d connections, %d interleaved rounds of %s per stack (median round shown), GOMAXPROCS=%d, load from %s.\n",
		clients, rounds, d, runtime.GOMAXPROCS(0), gen)
	return nil
}

func round(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// loginLoad measures POST /login at the default hasher cost.
func loginLoad(d time.Duration, clients int, timeout time.Duration) error {
	users := memstore.NewUsers[bench.User]()
	m, err := loginkit.New[*bench.User]().Users(users).Sessions(memstore.NewSessions()).
		Hasher(hashers.Default()).Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).Build()
	if err != nil {
		return err
	}
	u := &bench.User{Name: "ann"}
	u.Username = "ann"
	if err := m.Register(context.Background(), u, "correct horse battery staple"); err != nil {
		return err
	}
	var timedOut atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		user, err := m.Authenticate(ctx, r.PostFormValue("login"), r.PostFormValue("password"))
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			timedOut.Add(1)
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		case err != nil:
			http.Error(w, "invalid", http.StatusUnauthorized)
			return
		}
		if err := m.Login(w, r, user, loginkit.LoginOptions{}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	addr, stop, err := serve(h)
	if err != nil {
		return err
	}
	defer stop()
	body := url.Values{"login": {"ann"}, "password": {"correct horse battery staple"}}.Encode()
	res := load(d, clients, func() *http.Request {
		r, _ := http.NewRequest("POST", addr+"/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}, func(code int) bool { return code == http.StatusOK || code == http.StatusSeeOther })
	ok := res.rps - float64(res.errors)/d.Seconds()
	fmt.Printf("| login path | logins/s | responses/s | p50 | p99 | timed out (503) | other errors | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Printf("| argon2id default, %d clients, %s deadline | %.1f | %.1f | %s | %s | %d | %d | %s |\n",
		clients, timeout, ok, res.rps, round(res.p50), round(res.p99), timedOut.Load(), res.errors-timedOut.Load(), peakRSS())
	return nil
}

// peakRSS reads the process's peak resident set size from /proc.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.Atoi(f[0]); err == nil {
				return fmt.Sprintf("%d MiB", kb/1024)
			}
		}
	}
	return "n/a"
}

// wrkLoad runs wrk against target with the session cookies for d and
// reads its requests per second and latency percentiles.
func wrkLoad(target string, cookies []*http.Cookie, d time.Duration, conns int) (result, error) {
	var jar []string
	for _, c := range cookies {
		jar = append(jar, c.Name+"="+c.Value)
	}
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}
	if len(jar) > 0 {
		args = append(args, "-H", "Cookie: "+strings.Join(jar, "; "))
	}
	out, err := exec.Command("wrk", append(args, target)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	var r result
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.p50, _ = time.ParseDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99, _ = time.ParseDuration(f[1])
		case len(f) >= 4 && f[0] == "Non-2xx":
			n, _ := strconv.Atoi(f[len(f)-1])
			r.errors += int64(n)
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			r.errors++
		}
	}
	if r.rps == 0 {
		return r, fmt.Errorf("wrk printed no rate:\n%s", out)
	}
	return r, nil
}
