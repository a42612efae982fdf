// Command quickstart is a complete web application built with loginkit:
// register, log in with "remember me", log out, change password (with a
// fresh-login check), "forgot password" by emailed link, email
// confirmation, an active sessions list, user administration and a small
// JSON API, with users, sessions and tokens in one SQLite file.
//
//	go run ./examples/quickstart                      # serve on http://127.0.0.1:8080
//	go run ./examples/quickstart -addr 127.0.0.1:9000 -db app.db
//	go run ./examples/quickstart -secure-cookies      # behind an HTTPS proxy on 127.0.0.1:8080
//	go run ./examples/quickstart -admin-2fa           # admin pages need two-factor authentication
//	go run ./examples/quickstart -smtp 'smtp://user:pass@mail.example.com:587' -base-url https://app.example.com
//	go run ./examples/quickstart createuser -email ann@example.com -username ann -admin
//	go run ./examples/quickstart import-users -db app.db users.csv
//	go run ./examples/quickstart import-users -db app.db -dry-run users.csv   # report only
//
// The database file is created and migrated on first run, and beside it
// the file <db>.2fa-key with the key that encrypts two-factor secrets
// (keep it, and keep it out of database backups).
//
// Cookies: on a loopback address (127.0.0.1, ::1, localhost) the app runs
// in development mode by default, with cookies that lack the Secure
// attribute and the __Host- prefix, so that a browser keeps them over
// plain http://127.0.0.1:8080; it says so in one warning line at start-up.
// When the app listens on loopback behind a TLS-terminating reverse proxy
// (a common production setup), start it with -secure-cookies: the cookies
// are then Secure and named __Host-session and __Host-remember, and the
// site must be reached over HTTPS. On any other address cookies are always
// Secure, whatever the flag says.
//
// Mail: password-reset and email-confirmation messages are written to the
// log unless -smtp names an SMTP server (smtp:// with STARTTLS required,
// smtps:// with TLS from the start, or smtp://host:port?tls=none for a
// local test server such as Mailpit). The links in them start with
// -base-url (by default http:// and -addr), never with the Host header a
// request carries.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/loginkit/loginkit/examples/internal/webserver"
	lkmail "github.com/loginkit/loginkit/mail"
)

const defaultDB = "quickstart.db"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "createuser":
			return createUser(ctx, args[1:], stdin, stdout)
		case "import-users":
			return importUsers(ctx, args[1:], stdout)
		}
	}
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := fs.String("db", defaultDB, "SQLite database file (created and migrated on first run)")
	admin2FA := fs.Bool("admin-2fa", false, "require a login with two-factor authentication for the administration pages")
	smtpURL := fs.String("smtp", "", "send mail through this SMTP server (smtp://user:pass@host:587, smtps://host:465, smtp://127.0.0.1:1025?tls=none); default: write messages to the log")
	mailFrom := fs.String("mail-from", defaultMailFrom, "sender of the password-reset and confirmation messages")
	baseURL := fs.String("base-url", "", "URL the links in messages start with (default http://ADDR)")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (with the __Host- prefix) even on a loopback -addr, for an app behind an HTTPS reverse proxy; always on for other addresses")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	mo := mailOptions{from: *mailFrom, baseURL: *baseURL}
	if mo.baseURL == "" {
		mo.baseURL = "http://" + *addr
	}
	if *smtpURL != "" {
		cfg, err := lkmail.ParseSMTPURL(*smtpURL)
		if err != nil {
			return fmt.Errorf("%w: -smtp: %v", errUsage, err)
		}
		if mo.mailer, err = lkmail.NewSMTP(cfg); err != nil {
			return fmt.Errorf("%w: -smtp: %v", errUsage, err)
		}
	}
	return serve(ctx, *addr, *dbPath, *secure, *admin2FA, mo, stdout)
}

// mailOptions are the mail settings from the command line.
type mailOptions struct {
	mailer  lkmail.Mailer // nil: the log
	from    string
	baseURL string
}

// insecureCookies reports whether the app serving on addr leaves the
// Secure attribute off its cookies: only on a loopback address, and only
// when -secure-cookies was not given.
func insecureCookies(addr string, secureFlag bool) bool {
	return webserver.IsLoopback(addr) && !secureFlag
}

func serve(ctx context.Context, addr, dbPath string, secureFlag, admin2FA bool, mo mailOptions, stdout io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, closeDB, err := openSQLite(ctx, dbPath)
	if err != nil {
		return err
	}
	defer closeDB()
	insecure := insecureCookies(addr, secureFlag)
	key, err := loadOrCreateKey(dbPath + ".2fa-key")
	if err != nil {
		return fmt.Errorf("second-factor key: %w", err)
	}
	a, err := NewApp(st, Options{
		SecondFactorKey:  key,
		AdminRequires2FA: admin2FA,
		Hasher:           defaultHasher(),
		Policies:         defaultPolicies(),
		// Plain HTTP is fine on this machine's loopback interface only,
		// and only when no HTTPS proxy stands in front of the app.
		InsecureCookies: insecure,
		Logger:          logger,
		Mailer:          mo.mailer,
		MailFrom:        mo.from,
		BaseURL:         mo.baseURL,
		PasskeyOrigin:   passkeyOrigin(addr, mo.baseURL),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if insecure {
		logger.Warn("development mode: cookies are NOT marked Secure, for plain HTTP on this machine only; behind an HTTPS reverse proxy, restart with -secure-cookies")
	} else {
		logger.Info("cookies are marked Secure: serve the app over HTTPS, for example behind a TLS-terminating proxy")
	}
	if mo.mailer == nil {
		logger.Warn("mail: password-reset and confirmation messages are written to this log, not sent; use -smtp to send them")
	}
	logger.Info("quickstart listening", "url", "http://"+ln.Addr().String(), "db", dbPath)
	return webserver.Serve(ctx, ln, a.Handler())
}

// passkeyOrigin is the origin passkeys are bound to: the -base-url when
// given, and otherwise http://localhost:<port> (browsers refuse passkeys
// on an IP address, so browse to localhost rather than 127.0.0.1).
func passkeyOrigin(addr, baseURL string) string {
	if baseURL != "" {
		return baseURL
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return "http://localhost:" + port
}
