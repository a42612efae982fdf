package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Template renders a Message's subject and bodies from data. The subject
// and text body are text/template templates; the HTML body is an
// html/template template, so values are escaped for HTML.
type Template struct {
	// Subject renders the subject line; line breaks in its output are
	// replaced by spaces.
	Subject *texttemplate.Template
	// Text renders the plain-text body. Required.
	Text *texttemplate.Template
	// HTML renders the HTML body; nil sends plain text only.
	HTML *htmltemplate.Template
}

// ParseTemplate parses the three parts of a Template; html may be empty
// for plain-text messages.
func ParseTemplate(subject, text, html string) (*Template, error) {
	t := &Template{}
	var err error
	if t.Subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(subject); err != nil {
		return nil, fmt.Errorf("mail: subject template: %w", err)
	}
	if t.Text, err = texttemplate.New("text").Option("missingkey=error").Parse(text); err != nil {
		return nil, fmt.Errorf("mail: text template: %w", err)
	}
	if html != "" {
		if t.HTML, err = htmltemplate.New("html").Option("missingkey=error").Parse(html); err != nil {
			return nil, fmt.Errorf("mail: HTML template: %w", err)
		}
	}
	return t, nil
}

// MustParseTemplate is ParseTemplate that panics on an error, for
// templates written in the program.
func MustParseTemplate(subject, text, html string) *Template {
	t, err := ParseTemplate(subject, text, html)
	if err != nil {
		panic(err)
	}
	return t
}

// Render executes the template with data and returns a message with
// Subject, Text and HTML set; the caller fills in From and To.
func (t *Template) Render(data any) (*Message, error) {
	if t == nil || t.Subject == nil || t.Text == nil {
		return nil, fmt.Errorf("%w: template without subject or text", ErrInvalidMessage)
	}
	var b bytes.Buffer
	if err := t.Subject.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("mail: render subject: %w", err)
	}
	m := &Message{Subject: strings.Join(strings.Fields(b.String()), " ")}
	b.Reset()
	if err := t.Text.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("mail: render text: %w", err)
	}
	m.Text = b.String()
	if t.HTML != nil {
		b.Reset()
		if err := t.HTML.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("mail: render HTML: %w", err)
		}
		m.HTML = b.String()
	}
	return m, nil
}
