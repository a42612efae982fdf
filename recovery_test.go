package loginkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/policies"
	"github.com/loginkit/loginkit/ratelimit"
	"github.com/loginkit/loginkit/recovery"
)

const recoveryBase = "https://app.example.test/base"

// outbox is a Mailer keeping every message, for the manager-level tests;
// TestResetOverSMTP and the quickstart's tests go through a real SMTP
// server. delay makes each delivery slow, like a remote mail server.
type outbox struct {
	mu    sync.Mutex
	msgs  []*mail.Message
	delay time.Duration
}

func (o *outbox) Send(ctx context.Context, m *mail.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if o.delay > 0 {
		time.Sleep(o.delay)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	c := *m
	o.msgs = append(o.msgs, &c)
	return nil
}

// to returns the messages sent to addr, oldest first.
func (o *outbox) to(addr string) []*mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*mail.Message
	for _, m := range o.msgs {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+token=[A-Za-z0-9_.%-]+`)

// linkIn returns the link in a message's text, checking the HTML part
// carries the same one.
func linkIn(t *testing.T, m *mail.Message) string {
	t.Helper()
	l := linkRE.FindString(m.Text)
	if l == "" {
		t.Fatalf("no link in message %q", m.Text)
	}
	if m.HTML != "" && !strings.Contains(m.HTML, strings.ReplaceAll(l, "&", "&amp;")) {
		t.Fatalf("HTML part lacks the link %s: %s", l, m.HTML)
	}
	return l
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// recoveryApp is the manager-test app with recovery routes.
type recoveryApp struct {
	*app
	rc      *recovery.Service[*user]
	box     *outbox
	refused []error
	events  []string
	mu      sync.Mutex
}

func newRecoveryApp(t *testing.T, change func(o *recovery.Options[*user]), appOpts ...appOption) *recoveryApp {
	t.Helper()
	a := newApp(t, appOpts...)
	ra := &recoveryApp{app: a, box: &outbox{}}
	note := func(s string) { ra.mu.Lock(); ra.events = append(ra.events, s); ra.mu.Unlock() }
	o := recovery.Options[*user]{
		Mailer:  ra.box,
		From:    "Example <no-reply@example.test>",
		BaseURL: recoveryBase,
		AppName: "Example",
		Hooks: recovery.Hooks[*user]{
			ResetRequested: func(_ context.Context, u *user) { note("requested:" + u.Name) },
			ResetCompleted: func(_ context.Context, u *user) { note("completed:" + u.Name) },
			ResetRefused: func(_ context.Context, login string, err error) {
				ra.mu.Lock()
				ra.refused = append(ra.refused, err)
				ra.mu.Unlock()
				note("refused:" + login)
			},
			ConfirmationSent: func(_ context.Context, u *user) { note("confirmation:" + u.Name) },
			EmailConfirmed:   func(_ context.Context, u *user) { note("confirmed:" + u.Name) },
		},
	}
	if change != nil {
		change(&o)
	}
	rc, err := recovery.New(a.m, o)
	if err != nil {
		t.Fatalf("recovery.New: %v", err)
	}
	ra.rc = rc
	t.Cleanup(rc.Wait)
	mux := http.NewServeMux()
	mux.Handle("/", a.routes())
	mux.HandleFunc("POST /forgot", func(w http.ResponseWriter, r *http.Request) {
		switch err := rc.RequestReset(r, r.FormValue("login")); {
		case errors.Is(err, recovery.ErrRateLimited):
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		case err != nil:
			http.Error(w, "error", http.StatusBadRequest)
		default:
			_, _ = w.Write([]byte("If an account exists for that name, we sent it a link."))
		}
	})
	mux.HandleFunc("GET /reset", func(w http.ResponseWriter, r *http.Request) {
		if _, err := rc.VerifyReset(r.Context(), r.FormValue("token")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("choose a new password"))
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		u, err := rc.CompleteReset(w, r, r.FormValue("token"), r.FormValue("password"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("reset:" + u.Name))
	})
	mux.Handle("POST /confirm/send", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := a.m.CurrentUser(r)
		switch err := rc.SendConfirmation(r.Context(), u); {
		case errors.Is(err, recovery.ErrRateLimited):
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			_, _ = w.Write([]byte("sent"))
		}
	})))
	mux.HandleFunc("POST /confirm", func(w http.ResponseWriter, r *http.Request) {
		u, err := rc.ConfirmEmail(r.Context(), r.FormValue("token"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("confirmed:" + u.Email))
	})
	mux.Handle("GET /verified-only", a.m.Guard(policies.ConfirmedEmail())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("welcome"))
	})))
	a.handler = a.m.Middleware(mux)
	return ra
}

// forgot asks for a reset link and returns the response.
func (ra *recoveryApp) forgot(b *browser, login string) *http.Response {
	ra.t.Helper()
	return b.do("POST", "/forgot", "login="+url.QueryEscape(login))
}

// resetLink asks for a reset for login and returns the newest link sent
// to email.
func (ra *recoveryApp) resetLink(b *browser, login, email string) string {
	ra.t.Helper()
	before := len(ra.box.to(email))
	if res := ra.forgot(b, login); res.StatusCode != http.StatusOK {
		ra.t.Fatalf("forgot %s: %d %s", login, res.StatusCode, body(res))
	}
	ra.rc.Wait()
	msgs := ra.box.to(email)
	if len(msgs) != before+1 {
		ra.t.Fatalf("%d new messages to %s, want 1 (refused: %v)", len(msgs)-before, email, ra.refused)
	}
	return linkIn(ra.t, msgs[len(msgs)-1])
}

func (ra *recoveryApp) complete(b *browser, token, password string) *http.Response {
	ra.t.Helper()
	return b.do("POST", "/reset", "token="+url.QueryEscape(token)+"&password="+url.QueryEscape(password))
}

func (ra *recoveryApp) mustComplete(b *browser, token, password string) {
	ra.t.Helper()
	if res := ra.complete(b, token, password); res.StatusCode != http.StatusOK {
		ra.t.Fatalf("complete reset: %d %s", res.StatusCode, body(res))
	}
}

func (ra *recoveryApp) wantRefused(b *browser, token string) {
	ra.t.Helper()
	if res := b.get("/reset?token=" + url.QueryEscape(token)); res.StatusCode != http.StatusBadRequest {
		ra.t.Errorf("GET /reset with a void link: %d, want 400", res.StatusCode)
	}
	res := ra.complete(b, token, "another-password")
	if msg := body(res); res.StatusCode != http.StatusBadRequest || !strings.Contains(msg, loginkit.ErrInvalidToken.Error()) {
		ra.t.Fatalf("POST /reset with a void link: %d %q, want 400 invalid link", res.StatusCode, msg)
	}
}

func TestResetFlow(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("ann", "old-password")
	b := ra.browser()
	link := ra.resetLink(b, "ann@example.com", "ann@example.com")
	if !strings.HasPrefix(link, recoveryBase+"/reset?token=") {
		t.Fatalf("link %s", link)
	}
	msg := ra.box.to("ann@example.com")[0]
	if msg.From != "Example <no-reply@example.test>" || msg.Subject != "Reset your Example password" || !strings.Contains(msg.Text, "30 minutes") {
		t.Errorf("message %+v", msg)
	}
	tok := tokenOf(t, link)
	if res := b.get("/reset?token=" + url.QueryEscape(tok)); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /reset: %d %s", res.StatusCode, body(res))
	}
	// A password the hasher refuses leaves the link usable.
	if res := ra.complete(b, tok, ""); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty password: %d", res.StatusCode)
	}
	ra.mustComplete(b, tok, "new-password")
	wantWho(t, b, "anonymous") // LoginAfterReset is off
	if res := b.login("ann", "old-password", false); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", res.StatusCode)
	}
	b.mustLogin("ann", "new-password", false)
	wantWho(t, b, "user:ann:fresh")
	ra.wantRefused(ra.browser(), tok) // used
	if !slices.Contains(ra.events, "requested:ann") || !slices.Contains(ra.events, "completed:ann") {
		t.Errorf("hooks: %v", ra.events)
	}
}

func TestResetLoginAfterReset(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) { o.LoginAfterReset = true })
	ra.register("bob", "old-password")
	b := ra.browser()
	ra.mustComplete(b, tokenOf(t, ra.resetLink(b, "bob", "bob@example.com")), "new-password")
	wantWho(t, b, "user:bob:fresh")
}

// TestResetUniformAnswerAndTiming: the answer to a reset request is the
// same, byte for byte, for an existing and an unknown account, and so is
// its time, even though the mail server takes 20 ms per message.
func TestResetUniformAnswerAndTiming(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) {
		o.ResetPerAccount = ratelimit.Rate{Count: -1}
		o.ResetPerClient = ratelimit.Rate{Count: -1}
		o.MaxDeliveries = 1000
	})
	ra.box.delay = 20 * time.Millisecond
	ra.register("carol", "pw")
	b := ra.browser()
	known, unknown := ra.forgot(b, "carol@example.com"), ra.forgot(b, "nobody@example.com")
	kb, ub := body(known), body(unknown)
	if known.StatusCode != unknown.StatusCode || kb != ub || known.Header.Get("Content-Type") != unknown.Header.Get("Content-Type") {
		t.Fatalf("answers differ: %d %q vs %d %q", known.StatusCode, kb, unknown.StatusCode, ub)
	}
	ra.rc.Wait()
	if n := len(ra.box.to("carol@example.com")); n != 1 {
		t.Fatalf("%d messages to the existing account, want 1", n)
	}

	measure := func(login string) time.Duration {
		start := time.Now()
		res := ra.forgot(b, login)
		d := time.Since(start)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("forgot: %d", res.StatusCode)
		}
		return d
	}
	const rounds = 300
	var ratio float64
	for attempt := 1; attempt <= 3; attempt++ {
		var k, u []time.Duration
		for i := range rounds {
			// Interleave, alternating which goes first, so that load from
			// other processes hits both alike.
			if i%2 == 0 {
				k = append(k, measure("carol@example.com"))
				u = append(u, measure(fmt.Sprintf("nobody%d@example.com", i)))
			} else {
				u = append(u, measure(fmt.Sprintf("nobody%d@example.com", i)))
				k = append(k, measure("carol@example.com"))
			}
		}
		ra.rc.Wait()
		slices.Sort(k)
		slices.Sort(u)
		ratio = float64(k[rounds/2]) / float64(u[rounds/2])
		t.Logf("attempt %d: median existing %v, unknown %v, ratio %.3f", attempt, k[rounds/2], u[rounds/2], ratio)
		if ratio >= 0.7 && ratio <= 1.43 {
			return
		}
	}
	t.Fatalf("timing ratio existing/unknown = %.3f, want within [0.7, 1.43]", ratio)
}

func TestResetSingleUseUnderConcurrency(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("dave", "old-password")
	tok := tokenOf(t, ra.resetLink(ra.browser(), "dave", "dave@example.com"))
	const n = 20
	var ok atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := ra.browser()
			<-start
			pw := fmt.Sprintf("password-%d", i)
			res := ra.complete(b, tok, pw)
			switch res.StatusCode {
			case http.StatusOK:
				ok.Add(1)
				winner.Store(pw)
			case http.StatusBadRequest:
			default:
				t.Errorf("completion %d: %d", i, res.StatusCode)
			}
		}()
	}
	close(start)
	wg.Wait()
	if got := ok.Load(); got != 1 {
		t.Fatalf("%d of %d concurrent completions succeeded, want exactly 1", got, n)
	}
	b := ra.browser()
	for i := range n {
		pw := fmt.Sprintf("password-%d", i)
		res := b.login("dave", pw, false)
		if want := pw == winner.Load(); (res.StatusCode == http.StatusSeeOther) != want {
			t.Errorf("login with %s: %d (winner %v)", pw, res.StatusCode, winner.Load())
		}
	}
}

func TestResetLinkExpires(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) { o.ResetTTL = 300 * time.Millisecond })
	ra.register("erin", "old-password")
	b := ra.browser()
	link := ra.resetLink(b, "erin", "erin@example.com")
	if !strings.Contains(ra.box.to("erin@example.com")[0].Text, "1 second") {
		t.Errorf("message does not state the lifetime: %s", ra.box.to("erin@example.com")[0].Text)
	}
	// The builder's clock drives the memstore token store too
	// (ClockSetter): the link expires by that clock.
	ra.clock.Advance(400 * time.Millisecond)
	ra.wantRefused(b, tokenOf(t, link))
	b.mustLogin("erin", "old-password", false)
}

func TestResetVoidedByPasswordChange(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("fay", "old-password")
	b := ra.browser()
	b.mustLogin("fay", "old-password", false)
	link := ra.resetLink(ra.browser(), "fay", "fay@example.com")
	if res := b.do("POST", "/password", "current=old-password&new=changed-password"); res.StatusCode != http.StatusOK {
		t.Fatalf("change password: %d %s", res.StatusCode, body(res))
	}
	ra.wantRefused(ra.browser(), tokenOf(t, link))
	ra.browser().mustLogin("fay", "changed-password", false)
}

func TestResetVoidedByPasswordLogin(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("gil", "old-password")
	link := ra.resetLink(ra.browser(), "gil", "gil@example.com")
	// A failed login does not void the link; a successful one does.
	if res := ra.browser().login("gil", "wrong", false); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	if res := ra.browser().get("/reset?token=" + url.QueryEscape(tokenOf(t, link))); res.StatusCode != http.StatusOK {
		t.Fatalf("link refused after a failed login: %d", res.StatusCode)
	}
	ra.clock.Advance(time.Second)
	ra.browser().mustLogin("gil", "old-password", false)
	ra.wantRefused(ra.browser(), tokenOf(t, link))
}

func TestResetVoidedByNewerReset(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("hal", "old-password")
	first := ra.resetLink(ra.browser(), "hal", "hal@example.com")
	second := ra.resetLink(ra.browser(), "hal@example.com", "hal@example.com")
	ra.wantRefused(ra.browser(), tokenOf(t, first))
	ra.mustComplete(ra.browser(), tokenOf(t, second), "new-password")
}

func TestResetRevokesEverySession(t *testing.T) {
	ra := newRecoveryApp(t, nil, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	ivy := ra.register("ivy", "old-password")
	laptop, phone := ra.browser(), ra.browser()
	laptop.mustLogin("ivy", "old-password", true)
	phone.mustLogin("ivy", "old-password", false)
	stolen := laptop.clone()
	link := ra.resetLink(ra.browser(), "ivy", "ivy@example.com")
	// An attacker locks the account out with wrong guesses.
	for range 3 {
		ra.browser().login("ivy", "guess", false)
	}
	if res := ra.browser().login("ivy", "old-password", false); res.StatusCode == http.StatusSeeOther {
		t.Fatal("lockout did not engage")
	}
	ra.mustComplete(ra.browser(), tokenOf(t, link), "new-password")
	for _, b := range []*browser{laptop, phone, stolen} {
		wantWho(t, b, "anonymous")
		b.restart() // the remember cookie alone
		wantWho(t, b, "anonymous")
	}
	if ss, err := ra.sessions.ListByUser(context.Background(), ivy.ID); err != nil || len(ss) != 0 {
		t.Fatalf("sessions left: %d %v", len(ss), err)
	}
	if ts, err := ra.tokens.ListByUser(context.Background(), ivy.ID, loginkit.PurposeRemember); err != nil || len(ts) != 0 {
		t.Fatalf("remember tokens left: %d %v", len(ts), err)
	}
	// The lockout is cleared: the new password works at once.
	ra.browser().mustLogin("ivy", "new-password", false)
}

func TestResetRateLimits(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) {
		o.ResetPerAccount = ratelimit.Rate{Count: 2, Per: time.Hour}
		o.ResetPerClient = ratelimit.Rate{Count: 5, Per: time.Hour}
	})
	ra.register("jo", "pw")
	b := ra.browser()
	// Per login name: the same answer for a known and an unknown name.
	for _, login := range []string{"jo@example.com", "ghost@example.com"} {
		for i, want := range []int{200, 200, 429} {
			if res := ra.forgot(b, login); res.StatusCode != want {
				t.Fatalf("%s request %d: %d, want %d", login, i+1, res.StatusCode, want)
			}
		}
	}
	// Per client: 6 requests from this address so far, the limit is 5.
	if res := ra.forgot(b, "someone@example.com"); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("client over its limit: %d, want 429", res.StatusCode)
	}
	other := ra.browser()
	other.addr = "198.51.100.7:1234"
	// Per account, silently: the username is a new login name, but the
	// account already had its 2 messages.
	if res := ra.forgot(other, "jo"); res.StatusCode != http.StatusOK {
		t.Fatalf("another client: %d, want 200", res.StatusCode)
	}
	ra.rc.Wait()
	if n := len(ra.box.to("jo@example.com")); n != 2 {
		t.Fatalf("%d messages sent, want 2", n)
	}
	if !slices.ContainsFunc(ra.refused, func(err error) bool { return errors.Is(err, recovery.ErrRateLimited) }) {
		t.Errorf("refusals reported: %v", ra.refused)
	}
}

// TestResetLinkIgnoresHostHeader: host-header poisoning. An attacker asks
// for a reset of the victim's account with a forged Host header; the
// link in the victim's mail must still point at the configured site.
func TestResetLinkIgnoresHostHeader(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("kim", "pw")
	b := ra.browser()
	r := b.request("POST", "/forgot", "login=kim")
	r.Host = "attacker.example"
	r.Header.Set("X-Forwarded-Host", "attacker.example")
	r.Header.Set("Forwarded", "host=attacker.example")
	rec := httptest.NewRecorder()
	ra.handler.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("forgot: %d", rec.Code)
	}
	ra.rc.Wait()
	msgs := ra.box.to("kim@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, part := range []string{msgs[0].Text, msgs[0].HTML} {
		if strings.Contains(part, "attacker") {
			t.Fatalf("the forged host reached the message: %s", part)
		}
	}
	if l := linkIn(t, msgs[0]); !strings.HasPrefix(l, recoveryBase+"/reset?") {
		t.Fatalf("link %s does not start with the configured base URL", l)
	}
}

func TestResetNothingSentToInactiveOrEmailless(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	u := ra.register("lee", "pw")
	u.Disabled = true
	if err := ra.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	v := &user{Name: "max"}
	v.Username = "max"
	if err := ra.m.Register(context.Background(), v, "pw"); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"lee", "max"} {
		if res := ra.forgot(ra.browser(), login); res.StatusCode != http.StatusOK {
			t.Fatalf("forgot %s: %d", login, res.StatusCode)
		}
	}
	ra.rc.Wait()
	if len(ra.box.msgs) != 0 {
		t.Fatalf("messages sent: %+v", ra.box.msgs)
	}
	if !slices.Contains(ra.events, "refused:lee") || !slices.Contains(ra.events, "refused:max") {
		t.Errorf("refusals not reported: %v", ra.events)
	}
}

func TestConfirmEmail(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) {
		o.ConfirmPerAccount = ratelimit.Rate{Count: 3, Per: time.Hour}
	})
	u := ra.register("nia", "pw")
	if u.EmailConfirmed() {
		t.Fatal("confirmed at registration")
	}
	b := ra.browser()
	b.mustLogin("nia", "pw", false)
	if res := b.get("/verified-only"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("unconfirmed user on a confirmed-only route: %d, want 403", res.StatusCode)
	}
	if res := b.do("POST", "/confirm/send", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("send: %d %s", res.StatusCode, body(res))
	}
	msgs := ra.box.to("nia@example.com")
	if len(msgs) != 1 || msgs[0].Subject != "Confirm your email address for Example" {
		t.Fatalf("messages: %+v", msgs)
	}
	link := linkIn(t, msgs[0])
	if !strings.HasPrefix(link, recoveryBase+"/confirm?token=") {
		t.Fatalf("link %s", link)
	}
	tok := tokenOf(t, link)
	if _, err := ra.rc.VerifyConfirmation(context.Background(), tok); err != nil {
		t.Fatalf("VerifyConfirmation: %v", err)
	}
	if res := b.do("POST", "/confirm", "token="+url.QueryEscape(tok)); res.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d %s", res.StatusCode, body(res))
	}
	if res := b.get("/verified-only"); res.StatusCode != http.StatusOK {
		t.Fatalf("confirmed user: %d", res.StatusCode)
	}
	if res := b.do("POST", "/confirm", "token="+url.QueryEscape(tok)); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("second use of the link: %d, want 400", res.StatusCode)
	}
	// Changing the address, by any code path, unconfirms it.
	stored, _ := ra.users.LoadUser(context.Background(), u.ID)
	stored.Email = "nia.new@example.com"
	if err := ra.users.Update(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	if res := b.get("/verified-only"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("after an address change: %d, want 403", res.StatusCode)
	}
	if !slices.Contains(ra.events, "confirmed:nia") || !slices.Contains(ra.events, "confirmation:nia") {
		t.Errorf("hooks: %v", ra.events)
	}
}

// TestConfirmLinkRefusedAfterAddressChange: a link sent to the old address
// must not confirm the new one.
func TestConfirmLinkRefusedAfterAddressChange(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	u := ra.register("oli", "pw")
	b := ra.browser()
	b.mustLogin("oli", "pw", false)
	if res := b.do("POST", "/confirm/send", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("send: %d", res.StatusCode)
	}
	tok := tokenOf(t, linkIn(t, ra.box.to("oli@example.com")[0]))
	stored, _ := ra.users.LoadUser(context.Background(), u.ID)
	stored.Email = "attacker@example.net"
	if err := ra.users.Update(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	if _, err := ra.rc.VerifyConfirmation(context.Background(), tok); !errors.Is(err, loginkit.ErrInvalidToken) {
		t.Errorf("VerifyConfirmation after the change: %v", err)
	}
	res := b.do("POST", "/confirm", "token="+url.QueryEscape(tok))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("confirm after the address changed: %d, want 400", res.StatusCode)
	}
	after, _ := ra.users.LoadUser(context.Background(), u.ID)
	if after.EmailConfirmed() || after.ConfirmedEmail != "" {
		t.Fatalf("new address confirmed by the old link: %+v", after.Account)
	}
	// Changing it back does not revive the used-up link.
	after.Email = "oli@example.com"
	_ = ra.users.Update(context.Background(), after)
	if res := b.do("POST", "/confirm", "token="+url.QueryEscape(tok)); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("used link after changing back: %d", res.StatusCode)
	}
}

func TestConfirmResendRateLimited(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) {
		o.ConfirmPerAccount = ratelimit.Rate{Count: 2, Per: time.Hour}
	})
	ra.register("pat", "pw")
	b := ra.browser()
	b.mustLogin("pat", "pw", false)
	for i, want := range []int{200, 200, 429, 429} {
		if res := b.do("POST", "/confirm/send", ""); res.StatusCode != want {
			t.Fatalf("send %d: %d, want %d", i+1, res.StatusCode, want)
		}
	}
	msgs := ra.box.to("pat@example.com")
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	// Only the newest link works.
	if _, err := ra.rc.ConfirmEmail(context.Background(), tokenOf(t, linkIn(t, msgs[0]))); !errors.Is(err, loginkit.ErrInvalidToken) {
		t.Fatalf("older link: %v", err)
	}
	if _, err := ra.rc.ConfirmEmail(context.Background(), tokenOf(t, linkIn(t, msgs[1]))); err != nil {
		t.Fatalf("newest link: %v", err)
	}
}

func TestRecoveryNewRefusesBadConfiguration(t *testing.T) {
	a := newApp(t)
	for name, o := range map[string]recovery.Options[*user]{
		"no mailer":        {From: "a@example.test", BaseURL: "https://x.test"},
		"no from":          {Mailer: &outbox{}, BaseURL: "https://x.test"},
		"relative base":    {Mailer: &outbox{}, From: "a@example.test", BaseURL: "/reset"},
		"base with query":  {Mailer: &outbox{}, From: "a@example.test", BaseURL: "https://x.test/?a=b"},
		"javascript base":  {Mailer: &outbox{}, From: "a@example.test", BaseURL: "javascript:alert(1)"},
		"path without /":   {Mailer: &outbox{}, From: "a@example.test", BaseURL: "https://x.test", ResetPath: "reset"},
		"rate without per": {Mailer: &outbox{}, From: "a@example.test", BaseURL: "https://x.test", ResetPerClient: ratelimit.Rate{Count: 3}},
	} {
		if _, err := recovery.New(a.m, o); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	noTokens, err := loginkit.New[*user]().Users(a.users).Sessions(a.sessions).Hasher(testHasher{}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recovery.New(noTokens, recovery.Options[*user]{Mailer: &outbox{}, From: "a@example.test", BaseURL: "https://x.test"}); !errors.Is(err, loginkit.ErrConfig) {
		t.Errorf("no token store: %v", err)
	}
}

// TestResetOverSMTP walks through a reset with the link delivered by the
// SMTP mailer to a real mail server (Mailpit) and read back from it.
func TestResetOverSMTP(t *testing.T) {
	smtpURL := testenv.Require(t, testenv.SMTPURL)
	mb := testenv.OpenMailbox(t)
	cfg, err := mail.ParseSMTPURL(smtpURL + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) { o.Mailer = m })
	name := "smtp" + loginkit.NewID()[:10]
	ra.register(name, "old-password")
	email := name + "@example.com"
	if res := ra.forgot(ra.browser(), email); res.StatusCode != http.StatusOK {
		t.Fatalf("forgot: %d", res.StatusCode)
	}
	got := mb.Wait(t, email, 1)[0]
	if got.Subject != "Reset your Example password" || got.From.Address != "no-reply@example.test" {
		t.Fatalf("message %+v", got)
	}
	link := linkRE.FindString(got.Text)
	if !strings.HasPrefix(link, recoveryBase+"/reset?token=") || !strings.Contains(got.HTML, link) {
		t.Fatalf("link %q in text %q and HTML %q", link, got.Text, got.HTML)
	}
	b := ra.browser()
	ra.mustComplete(b, tokenOf(t, link), "new-password")
	b.mustLogin(name, "new-password", false)
}

// TestResetDoesNotSkipSecondFactor: a reset link proves control of the
// mailbox only; with LoginAfterReset, a user with TOTP enrolled must still
// pass the second factor.
func TestResetDoesNotSkipSecondFactor(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("tess", "old-password")
	secret, _ := ta.enrol(ta.browser(), "tess", "old-password")
	box := &outbox{}
	rc, err := recovery.New(ta.m, recovery.Options[*user]{
		Mailer: box, From: "no-reply@example.test", BaseURL: recoveryBase, LoginAfterReset: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := ta.browser()
	if err := rc.RequestReset(b.request("POST", "/forgot", ""), "tess"); err != nil {
		t.Fatal(err)
	}
	rc.Wait()
	msgs := box.to("tess@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	rec := httptest.NewRecorder()
	var gotUser bool
	h := ta.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := rc.CompleteReset(w, r, tokenOf(t, linkIn(t, msgs[0])), "new-password")
		if !errors.Is(err, loginkit.ErrSecondFactorRequired) || u == nil {
			t.Errorf("CompleteReset for a user with TOTP: %v, %v; want the user and ErrSecondFactorRequired", u, err)
		}
		_, gotUser = ta.m.CurrentUser(r)
	}))
	h.ServeHTTP(rec, b.request("POST", "/reset", ""))
	b.store(rec.Result())
	if gotUser {
		t.Fatal("logged in by the reset link without the second factor")
	}
	if got := body(b.get("/2fa")); got != "pending:tess" {
		t.Fatalf("after the reset: GET /2fa = %q, want the second factor pending", got)
	}
	ta.clock.Advance(30 * time.Second) // the enrolment used the current step's code
	if res := b.do("POST", "/2fa/totp", form("code", ta.code(secret, 0))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second factor after the reset: %d %s", res.StatusCode, body(res))
	}
	wantWho(t, b, "user:tess:fresh")
}

// TestRecoveryTokensDoNotCrossPurposes: a confirmation link cannot reset
// a password, and a reset link cannot confirm an address.
func TestRecoveryTokensDoNotCrossPurposes(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	u := ra.register("uma", "pw")
	if err := ra.rc.SendConfirmation(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	confirm := tokenOf(t, linkIn(t, ra.box.to("uma@example.com")[0]))
	reset := tokenOf(t, ra.resetLink(ra.browser(), "uma", "uma@example.com"))
	ra.wantRefused(ra.browser(), confirm)
	if _, err := ra.rc.ConfirmEmail(context.Background(), reset); !errors.Is(err, loginkit.ErrInvalidToken) {
		t.Fatalf("ConfirmEmail with a reset token: %v", err)
	}
	// Both still work for their own purpose.
	if _, err := ra.rc.ConfirmEmail(context.Background(), confirm); err != nil {
		t.Fatalf("confirmation: %v", err)
	}
	ra.mustComplete(ra.browser(), reset, "new-password")
}
