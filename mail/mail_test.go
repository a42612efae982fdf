package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	lkmail "github.com/loginkit/loginkit/mail"
)

func TestLogMailer(t *testing.T) {
	var buf bytes.Buffer
	l := &lkmail.Log{Logger: slog.New(slog.NewTextHandler(&buf, nil)), From: "no-reply@example.test"}
	if err := l.Send(context.Background(), &lkmail.Message{To: "ann@example.test", Subject: "Reset", Text: "open https://x.test/reset?token=a.b"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"to=ann@example.test", "subject=Reset", "https://x.test/reset?token=a.b"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
	buf.Reset()
	if err := l.Send(context.Background(), &lkmail.Message{To: "x\r\nBcc: y@example.test", Text: "t"}); !errors.Is(err, lkmail.ErrInvalidMessage) {
		t.Errorf("invalid recipient: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("an invalid message was logged: %s", buf.String())
	}
}

func TestTemplate(t *testing.T) {
	tpl := lkmail.MustParseTemplate("Hi {{.Name}}\nagain", "Link: {{.Link}}", `<a href="{{.Link}}">{{.Name}}</a>`)
	m, err := tpl.Render(map[string]string{"Name": "<b>Ann</b>", "Link": "https://x.test/r?token=a.b"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Hi <b>Ann</b> again" {
		t.Errorf("subject %q: want one line", m.Subject)
	}
	if m.Text != "Link: https://x.test/r?token=a.b" {
		t.Errorf("text %q", m.Text)
	}
	if m.HTML != `<a href="https://x.test/r?token=a.b">&lt;b&gt;Ann&lt;/b&gt;</a>` {
		t.Errorf("HTML %q: want escaped values", m.HTML)
	}
	if _, err := tpl.Render(map[string]string{"Name": "x"}); err == nil {
		t.Error("a missing key rendered without error")
	}
	if _, err := lkmail.ParseTemplate("{{", "x", ""); err == nil {
		t.Error("a broken template parsed")
	}
}

// FuzzCompose checks that whatever a user puts in a name, an address or a
// subject, Compose either refuses the message or produces one whose headers
// parse back to exactly the one sender, the one recipient and the subject.
func FuzzCompose(f *testing.F) {
	f.Add("Ann", "ann@example.test", "Reset your password", "body")
	f.Add("Zoë \"Z\"", "z@example.test", "Bcc: x@y\r\n", "a\r\n.\r\nb")
	f.Add("a\nBcc: v@example.test", "v@example.test", "=?utf-8?q?x?=", "")
	f.Fuzz(func(t *testing.T, name, addr, subject, text string) {
		to := (&mail.Address{Name: name, Address: addr}).String()
		msg := &lkmail.Message{From: "no-reply@example.test", To: to, Subject: subject, Text: text}
		raw, err := lkmail.Compose(msg, time.Unix(0, 0))
		if err != nil {
			if !errors.Is(err, lkmail.ErrInvalidMessage) {
				t.Fatalf("Compose: %v, want ErrInvalidMessage", err)
			}
			return
		}
		pm, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("composed message does not parse: %v\n%s", err, raw)
		}
		for _, h := range []string{"Bcc", "Cc"} {
			if pm.Header.Get(h) != "" {
				t.Fatalf("injected %s header:\n%s", h, raw)
			}
		}
		tos, err := pm.Header.AddressList("To")
		if err != nil || len(tos) != 1 {
			t.Fatalf("To: %v %v\n%s", tos, err, raw)
		}
		want, _ := mail.ParseAddress(to)
		if tos[0].Address != want.Address {
			t.Fatalf("To address %q, want %q", tos[0].Address, want.Address)
		}
		dec := new(mimeDecoder)
		if got, err := dec.DecodeHeader(pm.Header.Get("Subject")); err != nil || strings.Trim(got, " \t") != strings.Trim(subject, " \t") {
			t.Fatalf("Subject %q (%v), want %q", got, err, subject)
		}
	})
}
