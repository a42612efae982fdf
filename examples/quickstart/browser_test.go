package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/loginkit/loginkit/internal/testenv"
)

// TestBrowserRememberMeAndPasswordChange drives the quickstart in real
// headless Chromium: register, log out, log in with "remember me", close
// the browser and start a new one on the same profile (the session cookie
// is gone, the remember cookie kept) and still be logged in, be asked to
// re-authenticate on /account/password, change the password, and see a
// second browser profile logged out. Screenshots of the login and account
// pages are saved under the artifacts directory.
func TestBrowserRememberMeAndPasswordChange(t *testing.T) {
	chromium := testenv.Require(t, testenv.Chromium)
	ta := newTestApp(t)
	base := ta.srv.URL
	artifacts := artifactsDir(t)
	profile, otherProfile := t.TempDir(), t.TempDir()

	// Register, then log out.
	b := startBrowser(t, chromium, profile)
	b.open(base + "/register")
	b.fill(`input[name="username"]`, "ann")
	b.fill(`input[name="email"]`, "ann@example.com")
	b.fill(`input[name="password"]`, "correct horse")
	b.fill(`input[name="confirm"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.wantText("#username", "ann")
	b.submit(`header form[action="/logout"] button`)
	b.wantPath("/")
	b.wantText("h1", "Welcome")

	// Log in with "remember me".
	b.open(base + "/login")
	b.screenshot(filepath.Join(artifacts, "login.png"))
	b.fill(`input[name="login"]`, "ann@example.com")
	b.fill(`input[name="password"]`, "correct horse")
	b.click(`input[name="remember"]`)
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	if b.cookie(base, "session") == nil || b.cookie(base, "remember") == nil {
		t.Fatalf("after login with remember me: cookies %v", b.cookieNames(base))
	}

	// A second browser profile logs in too, without remember me.
	other := startBrowser(t, chromium, otherProfile)
	other.open(base + "/login")
	other.fill(`input[name="login"]`, "ann")
	other.fill(`input[name="password"]`, "correct horse")
	other.submit(`main form button[type="submit"]`)
	other.wantPath("/account")

	// Close the browser and start a new one on the same profile. The
	// cookies are read before any request to the app, which would restore
	// the login and set a new session cookie.
	b.close()
	b = startBrowser(t, chromium, profile)
	if ck := b.cookie(base, "session"); ck != nil {
		t.Fatalf("the session cookie survived the browser restart: %+v", ck)
	}
	if ck := b.cookie(base, "remember"); ck == nil || !ck.HTTPOnly {
		t.Fatalf("the remember cookie did not survive the restart (or is not HttpOnly): %v", b.cookieNames(base))
	}
	b.open(base + "/")
	b.wantText("h1", "Hello, ann!")
	b.wantText("main", "remembered")
	b.open(base + "/account")
	b.wantPath("/account")
	b.wantText("#email", "ann@example.com")

	// The password page asks for the password again first.
	b.open(base + "/account/password")
	b.wantPath("/reauth")
	if q := b.location().Query().Get("next"); q != "/account/password" {
		t.Fatalf("reauth next = %q", q)
	}
	b.wantText("h1", "Confirm your password")
	b.fill(`input[name="password"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account/password")
	b.wantText("h1", "Change password")

	// Change the password.
	b.fill(`input[name="current"]`, "correct horse")
	b.fill(`input[name="password"]`, "new battery staple")
	b.fill(`input[name="confirm"]`, "new battery staple")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.wantText(".flash", "Password changed.")
	b.screenshot(filepath.Join(artifacts, "account.png"))

	// The other profile is logged out.
	other.open(base + "/account")
	other.wantPath("/login")
	other.wantText("h1", "Log in")
	other.open(base + "/")
	other.wantText("h1", "Welcome")
}

// artifactsDir returns the directory for this test's artifacts:
// $LOGINKIT_ARTIFACTS/quickstart, or artifacts/ beside this file.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := "artifacts"
	if d := os.Getenv("LOGINKIT_ARTIFACTS"); d != "" {
		dir = filepath.Join(d, "quickstart")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium with its own profile directory.
type browser struct {
	t     *testing.T
	ctx   context.Context
	stop  func()
	alive bool
}

// stepTimeout bounds each browser step.
const stepTimeout = 20 * time.Second

// startAttempts is how often startBrowser tries to start Chromium. A
// start that fails before Chromium prints its DevTools address is a fault
// of the machine (a loaded CI runner once saw Chromium exit silently
// while a second profile started), not of the app, so it is retried; a
// browser that started and then misbehaves fails the test at once.
const startAttempts = 3

// startBrowser launches Chromium on the profile directory.
func startBrowser(t *testing.T, chromium, profile string) *browser {
	t.Helper()
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		var b *browser
		if b, err = launchBrowser(t, chromium, profile); err == nil {
			t.Cleanup(b.close)
			return b
		}
		t.Logf("starting %s (attempt %d of %d): %v", chromium, attempt, startAttempts, err)
		time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
	}
	t.Fatalf("Chromium did not start after %d attempts; last error: %v", startAttempts, err)
	return nil
}

// launchBrowser starts one Chromium process on the profile directory and
// waits until it accepts DevTools commands.
func launchBrowser(t *testing.T, chromium, profile string) (*browser, error) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Keep the cookie encryption key the same across restarts.
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1024, 768),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, alive: true}
	b.stop = func() {
		// Close the browser gracefully, so that it writes its cookies to
		// the profile, then wait for the process to exit.
		stopCtx, c := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(stopCtx)
		c()
		cancel()
		cancelAlloc()
	}
	// The first action starts the browser; its context must not carry a
	// deadline, which would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// close shuts the browser down; the profile directory stays.
func (b *browser) close() {
	if b.alive {
		b.alive = false
		b.stop()
	}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

func runStep[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// open navigates to u and waits for the page.
func (b *browser) open(u string) {
	b.t.Helper()
	b.do("open "+u, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
}

func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// submit clicks a submit button and waits for the page it leads to.
func (b *browser) submit(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("browser: submit %s: %v", sel, err)
	}
	b.do("wait for the page", chromedp.WaitReady(chromedp.CSS("body")))
}

func (b *browser) location() *url.URL {
	b.t.Helper()
	loc := runStep(b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	return u
}

func (b *browser) wantPath(path string) {
	b.t.Helper()
	if got := b.location(); got.Path != path {
		b.t.Fatalf("browser is at %s, want path %s; page text:\n%s", got, path, b.text("body"))
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return runStep(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

var spaces = regexp.MustCompile(`\s+`)

func (b *browser) wantText(sel, want string) {
	b.t.Helper()
	if got := spaces.ReplaceAllString(b.text(sel), " "); !strings.Contains(got, want) {
		b.t.Fatalf("text of %s is %q, want it to contain %q", sel, got, want)
	}
}

// cookies returns the browser's cookies for u.
func (b *browser) cookies(u string) []*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	if err != nil {
		b.t.Fatalf("browser: cookies: %v", err)
	}
	return res.Cookies
}

func (b *browser) cookie(u, name string) *network.Cookie {
	b.t.Helper()
	for _, ck := range b.cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func (b *browser) cookieNames(u string) []string {
	b.t.Helper()
	var names []string
	for _, ck := range b.cookies(u) {
		names = append(names, ck.Name)
	}
	return names
}

// screenshot saves a PNG of the whole page and logs its path.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	png := runStep(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// TestBrowserNarrowViewport visits every page of the quickstart in
// headless Chromium emulating a 390 px wide phone and checks that no page
// is wider than the screen (tables scroll inside their own box) and that
// no link or button of the header wraps onto a second line. It also walks
// through the admin's delete confirmation. Screenshots of the account and
// users pages are saved under the artifacts directory.
func TestBrowserNarrowViewport(t *testing.T) {
	chromium := testenv.Require(t, testenv.Chromium)
	ta := newTestApp(t)
	base := ta.srv.URL
	artifacts := artifactsDir(t)
	ta.createUser("administrator", "administrator@example.com", "admin password", true)
	victim := ta.createUser("someone-with-a-long-name", "someone.with.a.rather.long.address@example.com", "correct horse", false)
	for i := range 4 {
		ta.createUser("user"+strconv.Itoa(i), "user"+strconv.Itoa(i)+"@a-long-domain-name.example.com", "correct horse", false)
	}
	// A second session of the administrator, so the sessions table has
	// two rows.
	ta.client().mustLogin("administrator", "admin password", true)

	b := startBrowser(t, chromium, t.TempDir())
	b.do("390 px viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	check := func(what string) {
		t.Helper()
		const js = `(() => {
			const doc = document.documentElement;
			const wrapped = [...document.querySelectorAll('header a, header button')]
				.filter(e => e.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(e).fontSize) * 1.25)
				.map(e => e.textContent.trim());
			return JSON.stringify({width: window.innerWidth, scroll: Math.max(doc.scrollWidth, document.body.scrollWidth), wrapped});
		})()`
		var got struct {
			Width, Scroll int
			Wrapped       []string
		}
		if err := json.Unmarshal([]byte(runStep(b, "measure "+what, chromedp.Evaluate[string](js))), &got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		// A mobile browser zooms out to fit a page wider than the screen,
		// which widens the layout viewport (innerWidth) beyond 390 px.
		if wide := max(got.Width, got.Scroll); wide > 390 {
			t.Errorf("%s (%s): the page is %d px wide on a 390 px screen", what, b.location().Path, wide)
		}
		if len(got.Wrapped) > 0 {
			t.Errorf("%s: header items wrap onto two lines: %q", what, got.Wrapped)
		}
	}

	for _, p := range []string{"/", "/login", "/register", "/forgot", "/no/such/page"} {
		b.open(base + p)
		check(p)
	}
	b.open(base + "/login")
	b.fill(`input[name="login"]`, "administrator")
	b.fill(`input[name="password"]`, "wrong password")
	b.click(`input[name="remember"]`)
	b.submit(`main form button[type="submit"]`)
	b.wantText("#login-error", "Invalid username or password.")
	if !runStep(b, "remember tick", chromedp.Evaluate[bool](`document.querySelector('input[name="remember"]').checked`)) {
		t.Error("the remember me tick was lost after a failed login")
	}
	check("failed login")
	b.wantText("#login-note", "wait and try again") // the login name is kept in its field
	b.fill(`input[name="password"]`, "admin password")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	check("/account")
	b.screenshot(filepath.Join(artifacts, "account-390.png"))

	for _, p := range []string{"/", "/account/password", "/account/2fa", "/reauth", "/admin/users", "/admin/users/" + victim.ID, "/admin/users/" + victim.ID + "/delete"} {
		b.open(base + p)
		check(p)
	}
	b.open(base + "/admin/users")
	b.screenshot(filepath.Join(artifacts, "users-390.png"))

	// Delete asks first, then deletes and says so.
	b.click(`a[href="/admin/users/` + victim.ID + `/delete"]`)
	b.do("wait for the confirmation", chromedp.WaitVisible(chromedp.CSS("#confirm-delete")))
	b.wantPath("/admin/users/" + victim.ID + "/delete")
	b.wantText("h1", "Delete someone-with-a-long-name?")
	b.submit("#confirm-delete")
	b.wantPath("/admin/users")
	b.wantText(".flash", "User someone-with-a-long-name deleted.")
	check("users after a delete")

	// Logging out says so.
	b.submit(`header form[action="/logout"] button`)
	b.wantPath("/")
	b.wantText(".flash", "You have been logged out.")
	check("home after logout")
}
