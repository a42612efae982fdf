package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/loginkit/loginkit/mail"
)

// rcpt returns a recipient address no other test uses.
func rcpt(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t-" + hex.EncodeToString(b[:]) + "@example.test"
}

// sharedMailer is an SMTP mailer for the shared Mailpit server (no TLS).
func sharedMailer(t *testing.T, security mail.Security) (*mail.SMTP, *testenv.Mailbox) {
	t.Helper()
	u := testenv.Require(t, testenv.SMTPURL)
	mb := testenv.OpenMailbox(t)
	cfg, err := mail.ParseSMTPURL(u + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Security = security
	cfg.From = "Loginkit Tests <no-reply@example.test>"
	m, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, mb
}

func TestSMTPDeliversTextAndHTML(t *testing.T) {
	m, mb := sharedMailer(t, mail.Plaintext)
	to := rcpt(t)
	msg := &mail.Message{
		To:      "Zoë Example <" + to + ">",
		Subject: "Réinitialisez votre mot de passe — " + strings.Repeat("long ", 20),
		Text:    "Hello Zoë,\n\nopen https://app.example.test/reset?token=abc.def\n" + strings.Repeat("x", 200) + "\n",
		HTML:    `<p>Hello Zoë, <a href="https://app.example.test/reset?token=abc.def">reset</a></p>`,
	}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := mb.Wait(t, to, 1)[0]
	if got.Subject != msg.Subject {
		t.Errorf("subject %q, want %q", got.Subject, msg.Subject)
	}
	if strings.TrimRight(strings.ReplaceAll(got.Text, "\r\n", "\n"), "\n") != strings.TrimRight(msg.Text, "\n") {
		t.Errorf("text %q, want %q", got.Text, msg.Text)
	}
	if !strings.Contains(got.HTML, `href="https://app.example.test/reset?token=abc.def"`) {
		t.Errorf("HTML %q lacks the link", got.HTML)
	}
	if got.From.Address != "no-reply@example.test" || got.From.Name != "Loginkit Tests" {
		t.Errorf("from %+v", got.From)
	}
	if len(got.To) != 1 || got.To[0].Address != to || got.To[0].Name != "Zoë Example" {
		t.Errorf("to %+v", got.To)
	}
	raw := mb.Raw(t, got.ID)
	for _, h := range []string{"Message-ID: <", "Date: ", "MIME-Version: 1.0", "multipart/alternative", "Auto-Submitted: auto-generated"} {
		if !strings.Contains(raw, h) {
			t.Errorf("raw message lacks %q", h)
		}
	}
}

func TestSMTPRefusesClearTextWhenStartTLSRequired(t *testing.T) {
	m, mb := sharedMailer(t, mail.StartTLS)
	to := rcpt(t)
	err := m.Send(context.Background(), &mail.Message{To: to, Subject: "s", Text: "secret link"})
	if !errors.Is(err, mail.ErrTLSUnavailable) {
		t.Fatalf("Send to a server without STARTTLS: %v, want ErrTLSUnavailable", err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := mb.Messages(t, to); len(got) != 0 {
		t.Fatalf("a message was delivered in clear text: %+v", got)
	}
}

func TestSMTPHeaderInjectionRefused(t *testing.T) {
	m, mb := sharedMailer(t, mail.Plaintext)
	to, victim := rcpt(t), rcpt(t)
	for _, msg := range []*mail.Message{
		{To: to, Subject: "hi\r\nBcc: " + victim, Text: "x"},
		{To: to + "\r\nBcc: " + victim, Subject: "hi", Text: "x"},
		{To: to + ", " + victim, Subject: "hi", Text: "x"},
		{To: to, From: "a@example.test\nBcc: " + victim, Subject: "hi", Text: "x"},
	} {
		if err := m.Send(context.Background(), msg); !errors.Is(err, mail.ErrInvalidMessage) {
			t.Errorf("Send(%q, %q): %v, want ErrInvalidMessage", msg.To, msg.Subject, err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(mb.Messages(t, to)) + len(mb.Messages(t, victim)); n != 0 {
		t.Fatalf("%d message(s) delivered", n)
	}
}

func TestSMTPCancelledContext(t *testing.T) {
	m, _ := sharedMailer(t, mail.Plaintext)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Send(ctx, &mail.Message{To: rcpt(t), Subject: "s", Text: "t"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a cancelled context: %v", err)
	}
}

// tlsServer starts a private Mailpit that requires TLS and authentication,
// with a certificate made for the test; it returns the server, a pool
// trusting the certificate, and the accepted user and password.
func tlsServer(t *testing.T, extra ...string) (*testenv.MailServer, *x509.CertPool) {
	t.Helper()
	if os.Getenv(testenv.Mailpit) == "" {
		testenv.Require(t, testenv.Mailpit)
	}
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, authFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "auth")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(authFile, []byte("mailer:"+string(hash)+"\n"), 0o600))
	args := append([]string{"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-auth-file", authFile}, extra...)
	s := testenv.StartMailpit(t, args...)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return s, pool
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	s, pool := tlsServer(t, "--smtp-require-starttls")
	mb := &testenv.Mailbox{API: s.APIURL}
	base := mail.SMTPConfig{
		Addr: s.Addr, From: "no-reply@example.test", Username: "mailer", Password: "s3cret pass",
		TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
	send := func(cfg mail.SMTPConfig, to string) error {
		m, err := mail.NewSMTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m.Send(context.Background(), &mail.Message{To: to, Subject: "starttls", Text: "over TLS"})
	}

	ok := rcpt(t)
	if err := send(base, ok); err != nil {
		t.Fatalf("STARTTLS with the right password: %v", err)
	}
	if got := mb.Wait(t, ok, 1); got[0].Text == "" || got[0].Subject != "starttls" {
		t.Fatalf("delivered: %+v", got)
	}

	refused := map[string]mail.SMTPConfig{}
	wrong := base
	wrong.Password = "wrong"
	refused["wrong password"] = wrong
	untrusted := base
	untrusted.TLSConfig = nil // the system roots do not trust the test certificate
	refused["untrusted certificate"] = untrusted
	clear := base
	clear.Security = mail.Plaintext
	clear.Username = ""
	refused["no STARTTLS"] = clear
	for name, cfg := range refused {
		to := rcpt(t)
		if err := send(cfg, to); err == nil {
			t.Errorf("%s: delivered, want an error", name)
		}
		if got := mb.Messages(t, to); len(got) != 0 {
			t.Errorf("%s: %d message(s) accepted", name, len(got))
		}
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	s, pool := tlsServer(t, "--smtp-require-tls")
	mb := &testenv.Mailbox{API: s.APIURL}
	cfg, err := mail.ParseSMTPURL("smtps://mailer:s3cret%20pass@" + s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = &tls.Config{RootCAs: pool}
	m, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	to := rcpt(t)
	if err := m.Send(context.Background(), &mail.Message{From: "a@example.test", To: to, Subject: "implicit", Text: "tls"}); err != nil {
		t.Fatal(err)
	}
	mb.Wait(t, to, 1)
}

func TestParseSMTPURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want mail.SMTPConfig
	}{
		{"smtp://mail.example.com", mail.SMTPConfig{Addr: "mail.example.com:587", Security: mail.StartTLS}},
		{"smtps://u%40x:p%3Aw@mail.example.com", mail.SMTPConfig{Addr: "mail.example.com:465", Security: mail.ImplicitTLS, Username: "u@x", Password: "p:w"}},
		{"smtp://127.0.0.1:11025?tls=none&from=a@example.test", mail.SMTPConfig{Addr: "127.0.0.1:11025", Security: mail.Plaintext, From: "a@example.test"}},
	} {
		got, err := mail.ParseSMTPURL(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"http://x", "smtp://", "smtps://x?tls=none", "smtp://x?tls=maybe", "::"} {
		if _, err := mail.ParseSMTPURL(bad); err == nil {
			t.Errorf("ParseSMTPURL(%q): no error", bad)
		}
	}
}
