package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// ErrTLSUnavailable reports an SMTP server that does not offer STARTTLS
// to a mailer that requires it: the message is not sent in clear text.
var ErrTLSUnavailable = errors.New("mail: the SMTP server does not offer STARTTLS")

// Security is how an SMTP mailer protects its connection.
type Security int

const (
	// StartTLS (the default) upgrades the connection with STARTTLS and
	// refuses to go on without it (ErrTLSUnavailable): submission on
	// port 587.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte: submission on port 465.
	ImplicitTLS
	// Plaintext uses no TLS at all, for a relay on the same host or a
	// test server. Credentials are then only sent to a loopback server.
	Plaintext
)

// String returns "starttls", "tls" or "none".
func (s Security) String() string {
	switch s {
	case StartTLS:
		return "starttls"
	case ImplicitTLS:
		return "tls"
	case Plaintext:
		return "none"
	}
	return fmt.Sprintf("Security(%d)", int(s))
}

// DefaultSMTPTimeout bounds one delivery when SMTPConfig.Timeout is zero
// and ctx has no earlier deadline.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig configures an SMTP mailer.
type SMTPConfig struct {
	// Addr is the server's host:port.
	Addr string
	// Security selects STARTTLS (the default), implicit TLS or none.
	Security Security
	// TLSConfig is used for TLS; nil means the system roots and a
	// ServerName of Addr's host. A config without ServerName gets it.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with
	// AUTH PLAIN (or LOGIN when the server offers only that), and only
	// over TLS or to a loopback server.
	Username string
	Password string
	// From is the sender used when a message has none.
	From string
	// LocalName is the name sent with EHLO; default "localhost".
	LocalName string
	// Timeout bounds one delivery: dialling, every command and the data.
	// Default DefaultSMTPTimeout.
	Timeout time.Duration
}

// ParseSMTPURL reads an SMTP server's URL into a config:
//
//	smtp://user:password@mail.example.com:587    STARTTLS, required
//	smtps://user:password@mail.example.com:465   implicit TLS
//	smtp://127.0.0.1:1025?tls=none               no TLS
//
// The port defaults to 587 (smtp) and 465 (smtps). The query may also set
// from=ADDRESS. Credentials in the URL are percent-decoded.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var c SMTPConfig
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("mail: SMTP URL: %w", err)
	}
	port := ""
	switch u.Scheme {
	case "smtp":
		c.Security, port = StartTLS, "587"
	case "smtps":
		c.Security, port = ImplicitTLS, "465"
	default:
		return c, fmt.Errorf("mail: SMTP URL: scheme %q, want smtp or smtps", u.Scheme)
	}
	if u.Hostname() == "" {
		return c, errors.New("mail: SMTP URL: no host")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	c.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	switch q.Get("tls") {
	case "":
	case "none":
		if u.Scheme == "smtps" {
			return c, errors.New("mail: SMTP URL: smtps with tls=none")
		}
		c.Security = Plaintext
	case "starttls":
		c.Security = StartTLS
	default:
		return c, fmt.Errorf("mail: SMTP URL: tls=%q, want none or starttls", q.Get("tls"))
	}
	c.From = q.Get("from")
	return c, nil
}

// SMTP is a Mailer that delivers each message over a new connection to an
// SMTP server. It is safe for concurrent use.
type SMTP struct {
	cfg  SMTPConfig
	host string
}

// NewSMTP returns an SMTP mailer for cfg. It checks the configuration but
// does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("mail: SMTP address %q: want host:port", cfg.Addr)
	}
	if cfg.Security < StartTLS || cfg.Security > Plaintext {
		return nil, fmt.Errorf("mail: unknown SMTP security %d", cfg.Security)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("mail: negative SMTP timeout")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if strings.ContainsAny(cfg.LocalName, "\r\n ") {
		return nil, errors.New("mail: invalid SMTP local name")
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	cfg.TLSConfig = tc
	return &SMTP{cfg: cfg, host: host}, nil
}

// Send delivers msg: it connects, secures the connection as configured,
// authenticates when credentials are set, and sends the message composed
// by Compose to msg.To. ctx's cancellation or deadline aborts the
// delivery. An invalid message is ErrInvalidMessage and nothing is
// sent; a server without STARTTLS, when it is required, is
// ErrTLSUnavailable.
func (s *SMTP) Send(ctx context.Context, msg *Message) error {
	m := *msg
	if m.From == "" {
		m.From = s.cfg.From
	}
	data, err := Compose(&m, time.Now())
	if err != nil {
		return err
	}
	from, _ := parseAddress(m.From)
	to, _ := parseAddress(m.To)
	if err := s.deliver(ctx, from.Address, to.Address, data); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return fmt.Errorf("mail: smtp %s: %w", s.cfg.Addr, err)
	}
	return nil
}

func (s *SMTP) deliver(ctx context.Context, from, to string, data []byte) error {
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	var err error
	if s.cfg.Security == ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.cfg.TLSConfig}).DialContext(ctx, "tcp", s.cfg.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.cfg.Addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return err
	}
	if s.cfg.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrTLSUnavailable
		}
		if err := c.StartTLS(s.cfg.TLSConfig); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.cfg.Username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return errors.New("the server offers no authentication (AUTH)")
		}
		var a smtp.Auth
		switch {
		case hasWord(mechs, "PLAIN"):
			a = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)
		case hasWord(mechs, "LOGIN"):
			a = &loginAuth{user: s.cfg.Username, pass: s.cfg.Password, host: s.host}
		default:
			return fmt.Errorf("no supported AUTH mechanism in %q (want PLAIN or LOGIN)", mechs)
		}
		if err := c.Auth(a); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

// loginAuth is the LOGIN mechanism, which some servers offer instead of
// PLAIN. Like net/smtp's PLAIN, it sends credentials only over TLS or to
// a loopback server.
type loginAuth struct {
	user, pass, host string
	step             int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
