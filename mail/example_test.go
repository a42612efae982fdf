package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/loginkit/loginkit/mail"
)

// Render a message from a template and hand it to a mailer. In
// development the Log mailer prints it; in production an SMTP mailer
// sends it:
//
//	cfg, err := mail.ParseSMTPURL("smtp://user:password@mail.example.com:587")
//	m, err := mail.NewSMTP(cfg) // STARTTLS is required by default
func Example() {
	tpl := mail.MustParseTemplate(
		"Welcome to {{.App}}",
		"Hello {{.Name}},\nconfirm your address: {{.Link}}\n",
		`<p>Hello {{.Name}}, <a href="{{.Link}}">confirm your address</a>.</p>`,
	)
	msg, err := tpl.Render(map[string]string{"App": "Example", "Name": "Ann", "Link": "https://app.example.com/confirm?token=..."})
	if err != nil {
		panic(err)
	}
	msg.To = "Ann <ann@example.com>"

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // no timestamps in the example's output
			}
			return a
		},
	}))
	var m mail.Mailer = &mail.Log{Logger: logger, From: "Example <no-reply@example.com>"}
	if err := m.Send(context.Background(), msg); err != nil {
		fmt.Println(err)
	}
	// Output:
	// level=INFO msg="mail: message not sent (log mailer)" from="Example <no-reply@example.com>" to="Ann <ann@example.com>" subject="Welcome to Example" text="Hello Ann,\nconfirm your address: https://app.example.com/confirm?token=...\n"
}
