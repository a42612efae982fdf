package loginkit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
)

// defaultCostVector is one row of hashers/testdata/vectors.jsonl made at
// its library's default cost.
type defaultCostVector struct {
	Lib, Scheme, Password, Wrong, Hash string
	Default                            bool
}

// defaultCostVectors reads the default-cost rows of the hashers' test
// vectors: every stored-hash scheme the hashers accept that has a row
// there joins the timing benchmark, with no change here.
func defaultCostVectors(tb testing.TB) []defaultCostVector {
	f, err := os.Open("hashers/testdata/vectors.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []defaultCostVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v defaultCostVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatal(err)
		}
		if v.Default {
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkUnknownVersusWrongPassword measures, for every stored-hash
// scheme at its library's default cost (the default-cost rows of
// hashers/testdata/vectors.jsonl), the median time of Authenticate for an
// unknown login and for a wrong password, with users of every scheme in
// one store and the default hasher. It reports the ratio (unknown/wrong),
// which must stay within 0.7–1.43, and fails outside it. Each iteration
// costs two failed logins, each about the slowest scheme's check; run it
// with a small count:
//
//	go test -run '^$' -bench UnknownVersusWrong -benchtime 9x .
func BenchmarkUnknownVersusWrongPassword(b *testing.B) {
	ctx := context.Background()
	users := memstore.NewUsers[user]()
	m, err := loginkit.New[*user]().Users(users).Sessions(memstore.NewSessions()).Hasher(hashers.Default()).Build()
	if err != nil {
		b.Fatal(err)
	}
	vectors := defaultCostVectors(b)
	for i, v := range vectors {
		u := &user{}
		u.Username, u.PasswordHash = fmt.Sprintf("imported-%d", i), v.Hash
		if err := users.Create(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	fail := func(login string) time.Duration {
		start := time.Now()
		if _, err := m.Authenticate(ctx, login, "not the password"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			b.Fatalf("Authenticate(%s): %v", login, err)
		}
		return time.Since(start)
	}
	// A server that has been running a while has seen each scheme fail.
	for i := range vectors {
		fail(fmt.Sprintf("imported-%d", i))
	}
	for i, v := range vectors {
		b.Run(fmt.Sprintf("%s/%s", v.Scheme, v.Lib), func(b *testing.B) {
			var unknown, wrong []time.Duration
			for n := 0; b.Loop(); n++ {
				unknown = append(unknown, fail(fmt.Sprintf("nobody-%d", n)))
				wrong = append(wrong, fail(fmt.Sprintf("imported-%d", i)))
			}
			mu, mw := median(unknown), median(wrong)
			ratio := float64(mu) / float64(mw)
			b.ReportMetric(float64(mu)/1e6, "ms-unknown")
			b.ReportMetric(float64(mw)/1e6, "ms-wrong")
			b.ReportMetric(ratio, "ratio")
			if ratio < 0.7 || ratio > 1.43 {
				b.Errorf("%s (%s): median unknown %v vs wrong password %v: ratio %.2f, want 0.7–1.43", v.Scheme, v.Lib, mu, mw, ratio)
			}
		})
	}
}
