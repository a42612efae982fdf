package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestForgotAnswersAlikeAndIgnoresHost: the "forgot password" page says
// the same for an existing and an unknown account, and the link mailed
// for a request with a forged Host header points at the app's own URL.
func TestForgotAnswersAlikeAndIgnoresHost(t *testing.T) {
	ta, mb := newMailTestApp(t)
	name := "quinn" + randomSuffix()
	email := name + "@example.com"
	ta.createUser(name, email, "correct horse", false)
	c := ta.client()
	known := c.post("/forgot", url.Values{"login": {email}})
	unknown := c.post("/forgot", url.Values{"login": {"nobody" + randomSuffix() + "@example.com"}})
	if known.Status != http.StatusOK || known.Status != unknown.Status || known.Body != unknown.Body {
		t.Fatalf("answers differ: %d vs %d\n%s\n---\n%s", known.Status, unknown.Status, known.Body, unknown.Body)
	}

	req, _ := http.NewRequest("POST", c.url("/forgot"), strings.NewReader(url.Values{"login": {name}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "attacker.example"
	req.Header.Set("X-Forwarded-Host", "attacker.example")
	if res := c.do(req); res.Status != http.StatusOK {
		t.Fatalf("forgot with a forged Host: %d", res.Status)
	}
	msgs := mb.Wait(t, email, 2)
	for _, m := range msgs {
		if strings.Contains(m.Text, "attacker") || strings.Contains(m.HTML, "attacker") {
			t.Fatalf("the forged host reached the message:\n%s", m.Text)
		}
		if l := mailLink.FindString(m.Text); !strings.HasPrefix(l, ta.srv.URL+"/reset?token=") {
			t.Fatalf("link %q does not start with %s", l, ta.srv.URL)
		}
	}
	// The links are delivered in the background, so the mailbox may hold
	// them in either order: exactly one (the newer) opens the reset page,
	// the older one was voided by it, and a made-up one is refused.
	opened := 0
	for _, l := range []string{mailLink.FindString(msgs[0].Text), mailLink.FindString(msgs[1].Text)} {
		u, _ := url.Parse(l)
		res := c.get(u.RequestURI())
		switch {
		case res.Status == http.StatusOK:
			opened++
			if res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("GET the newest link: Referrer-Policy %q", res.Header.Get("Referrer-Policy"))
			}
		case res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "invalid or has expired"):
			t.Fatalf("GET %s: %d", u.RequestURI(), res.Status)
		}
	}
	if opened != 1 {
		t.Fatalf("%d of the two links open the reset page; want exactly the newer one", opened)
	}
	if res := c.get("/reset?token=abc.def"); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "invalid or has expired") {
		t.Fatalf("GET a made-up link: %d", res.Status)
	}
}

func TestSMTPFlagRefusesBadURL(t *testing.T) {
	for _, bad := range []string{"http://mail.example.com", "smtps://x?tls=none", "smtp://"} {
		err := run(context.Background(), []string{"-smtp", bad, "-db", filepath.Join(t.TempDir(), "q.db")}, nil, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("-smtp %q: %v, want a usage error", bad, err)
		}
	}
}
