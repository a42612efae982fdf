package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"

	"time"

	"github.com/loginkit/loginkit/bench"
)

// mixLoad runs the realistic mix: n live sessions per stack, each client
// picking the session of its next request from a Zipf distribution of
// exponent s (a few very active users, a long tail of occasional ones).
// Stacks run interleaved like getLoad's; the near-cache's hit ratio is
// reported over the measured rounds.
func mixLoad(d time.Duration, rounds, clients, n int, s float64) error {
	redisURL := os.Getenv("LOGINKIT_REDIS_URL")
	if redisURL == "" {
		return bench.ErrNoRedis
	}
	type running struct {
		s       bench.MixStack
		mix     *bench.Mix
		addr    string
		results []result
		hits    uint64
		reads   uint64
	}
	var stacks []*running
	for _, ms := range bench.MixStacks() {
		start := time.Now()
		m, err := ms.Setup(redisURL, n)
		if err != nil {
			return fmt.Errorf("%s: %w", ms.Name, err)
		}
		defer m.Release()
		addr, stop, err := serve(m.Handler)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(os.Stderr, "%s: %d sessions in %s\n", ms.Name, n, time.Since(start).Round(time.Millisecond))
		stacks = append(stacks, &running{s: ms, mix: m, addr: addr})
	}
	// Round -1 warms every stack up (connections, caches) and is not
	// measured: a server that has been running serves from a warm cache.
	for round := -1; round < rounds; round++ {
		for _, st := range stacks {
			target := st.addr + "/me"
			zipfs := make([]*rand.Zipf, clients)
			for c := range zipfs {
				zipfs[c] = rand.NewZipf(rand.New(rand.NewPCG(uint64(round+1), uint64(c))), s, 1, uint64(n-1))
			}
			var before uint64
			var beforeReads uint64
			if st.mix.Cache != nil {
				cs := st.mix.Cache()
				before, beforeReads = cs.Hits, cs.Hits+cs.Misses+cs.Bypassed
			}
			res := loadEach(d, clients, func(c int) *http.Request {
				r, _ := http.NewRequest("GET", target, nil)
				for _, ck := range st.mix.Cookies[zipfs[c].Uint64()] {
					r.AddCookie(ck)
				}
				return r
			}, func(code int) bool { return code == 200 })
			if round < 0 {
				continue
			}
			st.results = append(st.results, res)
			if st.mix.Cache != nil {
				cs := st.mix.Cache()
				st.hits += cs.Hits - before
				st.reads += cs.Hits + cs.Misses + cs.Bypassed - beforeReads
			}
		}
	}
	var bare, scs float64
	fmt.Printf("| stack | req/s | vs bare | vs scs-redisstore | p50 | p99 | errors | cache hit ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	medians := make([]result, len(stacks))
	for i, st := range stacks {
		slices.SortFunc(st.results, func(a, b result) int { return int(a.rps - b.rps) })
		medians[i] = st.results[len(st.results)/2]
		switch st.s.Name {
		case "bare":
			bare = medians[i].rps
		case "scs-redisstore":
			scs = medians[i].rps
		}
	}
	for i, st := range stacks {
		m := medians[i]
		hit := "—"
		if st.reads > 0 {
			hit = fmt.Sprintf("%.1f%%", 100*float64(st.hits)/float64(st.reads))
		}
		fmt.Printf("| %s | %.0f | %.0f%% | %.2f× | %s | %s | %d | %s |\n", st.s.Name, m.rps, 100*m.rps/bare, m.rps/scs,
			round(m.p50), round(m.p99), m.errors, hit)
	}
	fmt.Printf("\n%d live sessions per stack, Zipf s=%.2f, %d connections (Go clients in the same process), %d interleaved rounds of %s per stack after one unmeasured warm-up round (median round shown; hit ratio over the measured rounds), GOMAXPROCS=%d.\n",
		n, s, clients, rounds, d, runtime.GOMAXPROCS(0))
	return nil
}
