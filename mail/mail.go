// Package mail delivers the messages loginkit sends to users (password
// reset links, email confirmation links) behind one small interface,
// Mailer, with two implementations on the standard library:
//
//   - Log, for development, writes each message to a log instead of
//     sending it, like Django's console e-mail backend;
//   - SMTP sends through an SMTP server, with STARTTLS (required by
//     default) or implicit TLS, and PLAIN or LOGIN authentication.
//
// Messages are plain text with an optional HTML alternative, rendered
// from a Template the application can replace.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalidMessage reports a message that cannot be sent as it is: a
// missing or malformed address, or a header value containing a line
// break (which could inject headers).
var ErrInvalidMessage = errors.New("mail: invalid message")

// Message is one email: a plain-text body with an optional HTML
// alternative.
type Message struct {
	// From is the sender, an address with an optional display name
	// ("Example <no-reply@example.com>"). Mailers fill in their own
	// default sender when it is empty.
	From string
	// To is the single recipient, in the same form.
	To string
	// Subject is the subject line; it must not contain line breaks.
	Subject string
	// Text is the plain-text body; required.
	Text string
	// HTML is the HTML body, sent as an alternative to Text; optional.
	HTML string
}

// Mailer delivers messages. Send returns once the message was handed over
// (to the SMTP server, or the log), or with an error; it honours ctx.
// Implementations are safe for concurrent use.
type Mailer interface {
	Send(ctx context.Context, msg *Message) error
}

// MailerFunc adapts a function to Mailer.
type MailerFunc func(ctx context.Context, msg *Message) error

// Send calls f.
func (f MailerFunc) Send(ctx context.Context, msg *Message) error { return f(ctx, msg) }

// Validate checks that From and To are single, well-formed addresses,
// that Text is not empty and that no header value contains a line break.
// Every error matches ErrInvalidMessage.
func (m *Message) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	for _, f := range []struct{ name, v string }{{"From", m.From}, {"To", m.To}, {"Subject", m.Subject}} {
		if strings.ContainsAny(f.v, "\r\n\x00") {
			return fmt.Errorf("%w: line break in %s", ErrInvalidMessage, f.name)
		}
	}
	if _, err := parseAddress(m.From); err != nil {
		return fmt.Errorf("%w: From: %v", ErrInvalidMessage, err)
	}
	if _, err := parseAddress(m.To); err != nil {
		return fmt.Errorf("%w: To: %v", ErrInvalidMessage, err)
	}
	if m.Text == "" {
		return fmt.Errorf("%w: empty text body", ErrInvalidMessage)
	}
	return nil
}

// parseAddress parses one RFC 5322 address.
func parseAddress(s string) (*mail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("missing address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("address %q has no domain", a.Address)
	}
	return a, nil
}

// Compose returns msg encoded as an RFC 5322 message ready for SMTP's
// DATA command: UTF-8 headers in RFC 2047 encoding, the bodies
// quoted-printable, text and HTML as multipart/alternative, CRLF line
// endings, and Date and Message-ID headers. It validates msg first.
func Compose(msg *Message, date time.Time) ([]byte, error) {
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	from, _ := parseAddress(msg.From)
	to, _ := parseAddress(msg.To)
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeHeader(msg.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if msg.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, msg.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, content string }{{"text/plain", msg.Text}, {"text/html", msg.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.content); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// encodeHeader returns s as it is when it is printable ASCII that no
// reader could take for an encoded word, and otherwise as RFC 2047
// base64 encoded words of at most 45 bytes each (whole UTF-8 sequences),
// folded onto continuation lines.
func encodeHeader(s string) string {
	plain := !strings.Contains(s, "=?")
	for i := 0; plain && i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			plain = false
		}
	}
	if plain {
		return s
	}
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n > 0 && n+size > 45 {
				break
			}
			n += size
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// writeQP writes s quoted-printable with CRLF line endings.
func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

// messageID returns a new unique Message-ID in the sender's domain.
func messageID(from string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}
