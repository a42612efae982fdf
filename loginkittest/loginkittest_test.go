package loginkittest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/loginkittest"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

type member struct{ loginkit.Account }

type stack struct {
	name     string
	sessions func(t *testing.T) loginkit.SessionStore
}

var stacks = []stack{
	{"memstore", func(*testing.T) loginkit.SessionStore { return memstore.NewSessions() }},
	{"cookiestore", func(t *testing.T) loginkit.SessionStore {
		s, err := cookiestore.New(make([]byte, cookiestore.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// setup builds a manager and a handler answering "<id> fresh=<b>
// remembered=<b>" or 401.
func setup(t *testing.T, st stack, p loginkit.Protection) (*loginkit.Manager[*member], *member, http.Handler) {
	users := memstore.NewUsers[member]()
	m, err := loginkit.New[*member]().Loader(users).Sessions(st.sessions(t)).Tokens(memstore.NewTokens()).
		SessionProtection(p).Build()
	if err != nil {
		t.Fatal(err)
	}
	ann := &member{loginkit.Account{Username: "ann"}}
	if err := users.Create(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	h := m.Middleware(m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := m.Identity(r)
		fmt.Fprintf(w, "%s fresh=%v remembered=%v", id.User.Username, id.Fresh, id.Remembered)
	})))
	return m, ann, h
}

func TestRequestEveryStackAndMode(t *testing.T) {
	for _, st := range stacks {
		for _, p := range []loginkit.Protection{loginkit.ProtectionOff, loginkit.ProtectionBasic, loginkit.ProtectionStrong} {
			t.Run(fmt.Sprintf("%s/%d", st.name, p), func(t *testing.T) {
				m, ann, h := setup(t, st, p)
				for _, c := range []struct {
					opts []loginkittest.Option
					want string
				}{
					{nil, "ann fresh=true remembered=false"},
					{[]loginkittest.Option{loginkittest.NotFresh()}, "ann fresh=false remembered=false"},
					{[]loginkittest.Option{loginkittest.Remember()}, "ann fresh=true remembered=false"},
					{[]loginkittest.Option{loginkittest.Remembered()}, "ann fresh=false remembered=true"},
					{[]loginkittest.Option{loginkittest.RememberOnly()}, "ann fresh=false remembered=true"},
					{[]loginkittest.Option{loginkittest.From("198.51.100.7:5555", "Phone/2")}, "ann fresh=true remembered=false"},
				} {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, loginkittest.Request(t, m, ann, "GET", "/account", nil, c.opts...))
					if got := rec.Body.String(); rec.Code != 200 || got != c.want {
						t.Errorf("options %d: %d %q, want %q", len(c.opts), rec.Code, got, c.want)
					}
				}
			})
		}
	}
}

func TestClientWithTLSServer(t *testing.T) {
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			m, ann, h := setup(t, st, loginkit.ProtectionStrong)
			srv := httptest.NewTLSServer(h)
			defer srv.Close()
			for _, opts := range [][]loginkittest.Option{nil, {loginkittest.RememberOnly()}} {
				c := loginkittest.Client(t, m, ann, srv, opts...)
				for i := range 2 { // the jar keeps what the first response sets
					res, err := c.Get(srv.URL + "/account")
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						t.Fatalf("request %d with %d options: %d %q", i, len(opts), res.StatusCode, b)
					}
				}
			}
			// An anonymous client of the same server is refused.
			res, err := srv.Client().Get(srv.URL + "/account")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous: %d", res.StatusCode)
			}
		})
	}
}
