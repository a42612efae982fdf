package testenv

import (
	"net/smtp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sendPlain(t *testing.T, addr, to, subject string) {
	t.Helper()
	msg := "From: a@example.test\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nbody of " + subject + "\r\n"
	if err := smtp.SendMail(addr, nil, "a@example.test", []string{to}, []byte(msg)); err != nil {
		t.Fatalf("SendMail to %s: %v", addr, err)
	}
}

// TestMailpit sends to a private server, stops and restarts it, and reads
// the messages back through the API.
func TestMailpit(t *testing.T) {
	s := StartMailpit(t)
	if !strings.HasPrefix(s.URL, "smtp://127.0.0.1:") || !strings.HasPrefix(s.APIURL, "http://127.0.0.1:") {
		t.Fatalf("URL %q, APIURL %q", s.URL, s.APIURL)
	}
	mb := &Mailbox{API: s.APIURL}
	sendPlain(t, s.Addr, "one@example.test", "first")
	got := mb.Wait(t, "one@example.test", 1)
	if len(got) != 1 || got[0].Subject != "first" || !strings.Contains(got[0].Text, "body of first") {
		t.Fatalf("messages: %+v", got)
	}
	if raw := mb.Raw(t, got[0].ID); !strings.Contains(raw, "Subject: first") {
		t.Fatalf("raw message lacks its subject:\n%s", raw)
	}
	if other := mb.Messages(t, "two@example.test"); len(other) != 0 {
		t.Fatalf("messages for another address: %+v", other)
	}
	pid := s.PID()
	s.Stop(t)
	assertStopped(t, s.Server, pid)
	s.Start(t)
	sendPlain(t, s.Addr, "one@example.test", "second")
	if got := mb.Wait(t, "one@example.test", 2); got[0].Subject != "second" {
		t.Fatalf("newest message first: %+v", got)
	}
}

// TestSharedMailpit checks the shared server of scripts/services.sh.
func TestSharedMailpit(t *testing.T) {
	u := Require(t, SMTPURL)
	mb := OpenMailbox(t)
	to := "shared-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.test"
	sendPlain(t, strings.TrimPrefix(u, "smtp://"), to, "shared")
	if got := mb.Wait(t, to, 1); got[0].To[0].Address != to {
		t.Fatalf("messages: %+v", got)
	}
}
