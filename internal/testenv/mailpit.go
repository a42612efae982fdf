package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Environment variables naming the mail test server, Mailpit
// (github.com/axllent/mailpit): an SMTP server that keeps every message it
// accepts and serves them over an HTTP API. scripts/services.sh builds it,
// starts one on 127.0.0.1 and exports these.
const (
	// SMTPURL is the shared server's SMTP address, smtp://127.0.0.1:11025.
	// It offers no TLS and accepts any AUTH credentials.
	SMTPURL = "LOGINKIT_SMTP_URL"
	// MailpitURL is the base URL of the shared server's HTTP API,
	// http://127.0.0.1:18025.
	MailpitURL = "LOGINKIT_MAILPIT_URL"
	// Mailpit names the Mailpit binary that StartMailpit runs.
	Mailpit = "LOGINKIT_MAILPIT"
)

// MailServer is a private Mailpit server started by StartMailpit.
type MailServer struct {
	*Server
	// APIURL is the base URL of its HTTP API (http://127.0.0.1:<port>).
	APIURL string
}

// StartMailpit starts a private Mailpit server for the test, with its SMTP
// port in Server.Addr (Server.URL is smtp://<addr>) and its HTTP API at
// APIURL. args are added to Mailpit's command line, for example
// "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile,
// "--smtp-require-starttls", "--smtp-auth-file", authFile. The binary is
// the one named by LOGINKIT_MAILPIT; when it is unset the test is skipped,
// or fails under CI=true.
func StartMailpit(tb testing.TB, args ...string) *MailServer {
	tb.Helper()
	bin := builtBinary(tb, Mailpit, "Mailpit")
	s := newServer(tb, "mailpit")
	ms := &MailServer{Server: s}
	var apiAddr string
	s.stopSig = syscall.SIGTERM
	s.ready = func(addr string) error {
		if !portAnswers(addr) {
			return fmt.Errorf("SMTP port %s does not answer", addr)
		}
		resp, err := http.Get(ms.APIURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	}
	s.url = func(addr string) string {
		// A fresh API port goes with every SMTP port tried.
		p, err := freePort()
		if err != nil {
			p = s.Port + 1
		}
		apiAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ms.APIURL = "http://" + apiAddr
		return "smtp://" + addr
	}
	s.command = func() *exec.Cmd {
		a := append([]string{"--smtp", s.Addr, "--listen", apiAddr,
			"--database", filepath.Join(s.Dir, "mailpit.db"), "--disable-version-check",
			"--smtp-disable-rdns"}, args...)
		return exec.Command(bin, a...)
	}
	s.firstStart(tb)
	return ms
}

// Mailbox reads the messages a Mailpit server received, through its HTTP
// API.
type Mailbox struct {
	// API is the server's API base URL.
	API string
}

// OpenMailbox returns the mailbox of the shared Mailpit server named by
// LOGINKIT_MAILPIT_URL; when that is unset the test is skipped, or fails
// under CI=true.
func OpenMailbox(tb testing.TB) *Mailbox {
	tb.Helper()
	return &Mailbox{API: Require(tb, MailpitURL)}
}

// MailAddress is a sender or recipient.
type MailAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// MailMessage is one received message as Mailpit parsed it.
type MailMessage struct {
	ID        string        `json:"ID"`
	MessageID string        `json:"MessageID"`
	From      MailAddress   `json:"From"`
	To        []MailAddress `json:"To"`
	Subject   string        `json:"Subject"`
	Text      string        `json:"Text"`
	HTML      string        `json:"HTML"`
}

// Messages returns every message received for the address to, newest
// first, in full.
func (m *Mailbox) Messages(tb testing.TB, to string) []MailMessage {
	tb.Helper()
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	q := url.Values{"query": {"to:" + strconv.Quote(to)}, "limit": {"100"}}
	m.get(tb, "/api/v1/search?"+q.Encode(), &list)
	out := make([]MailMessage, 0, len(list.Messages))
	for _, s := range list.Messages {
		var msg MailMessage
		m.get(tb, "/api/v1/message/"+url.PathEscape(s.ID), &msg)
		out = append(out, msg)
	}
	return out
}

// Wait polls until at least n messages were received for to (for up to 30
// seconds) and returns them, newest first. It fails the test on timeout.
func (m *Mailbox) Wait(tb testing.TB, to string, n int) []MailMessage {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := m.Messages(tb, to)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: mailbox %s: %d message(s) for %s after 30s, want %d", m.API, len(msgs), to, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Raw returns the message with the given Mailpit ID as it was received.
func (m *Mailbox) Raw(tb testing.TB, id string) string {
	tb.Helper()
	resp, err := http.Get(m.API + "/api/v1/message/" + url.PathEscape(id) + "/raw")
	if err != nil {
		tb.Fatalf("testenv: mailbox: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("testenv: mailbox raw %s: %s %v", id, resp.Status, err)
	}
	return string(b)
}

func (m *Mailbox) get(tb testing.TB, path string, v any) {
	tb.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		tb.Fatalf("testenv: mailbox: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		tb.Fatalf("testenv: mailbox GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("testenv: mailbox GET %s: %v", path, err)
	}
}
