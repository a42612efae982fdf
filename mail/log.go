package mail

import (
	"context"
	"log/slog"
)

// Log is the development Mailer: instead of sending a message, it writes
// it to a logger at level Info, with the recipient, subject and plain-text
// body as attributes, so a developer can follow the links from the
// console. Use it only where the log is private: it contains live links.
type Log struct {
	// Logger receives the messages; nil means slog.Default().
	Logger *slog.Logger
	// From is the sender used when a message has none.
	From string
}

// Send validates msg and logs it. It fails only on an invalid message or
// a cancelled ctx.
func (l *Log) Send(ctx context.Context, msg *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := *msg
	if m.From == "" {
		m.From = l.From
	}
	if err := m.Validate(); err != nil {
		return err
	}
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.InfoContext(ctx, "mail: message not sent (log mailer)",
		"from", m.From, "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
