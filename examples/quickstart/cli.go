package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/loginkit/loginkit"
)

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

// createUser implements `quickstart createuser -db PATH -email E -username U [-admin]`.
func createUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("createuser", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dbPath := fs.String("db", defaultDB, "SQLite database file")
	email := fs.String("email", "", "email address (required)")
	username := fs.String("username", "", "username (required)")
	admin := fs.Bool("admin", false, "make the user an administrator")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *email == "" || *username == "" {
		fs.Usage()
		return fmt.Errorf("%w: -email and -username are required", errUsage)
	}
	st, closeDB, err := openSQLite(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := NewApp(st, Options{Hasher: defaultHasher()})
	if err != nil {
		return err
	}
	if errs := a.validateNewUser(ctx, *username, *email, "12345678", "", false); len(errs) > 0 {
		for _, k := range []string{"username", "email"} {
			if msg, ok := errs[k]; ok {
				return fmt.Errorf("%s: %s", k, msg)
			}
		}
	}
	password, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}
	if msg := checkPassword(password); msg != "" {
		return fmt.Errorf("password: %s", msg)
	}
	u := &User{IsAdmin: *admin}
	u.Email, u.Username = *email, *username
	if err := a.m.Register(ctx, u, password); err != nil {
		switch {
		case errors.Is(err, loginkit.ErrDuplicate):
			return errors.New("a user with that email or username already exists")
		case errors.Is(err, loginkit.ErrInvalid):
			field, msg := refusedField(u.Username, u.Email)
			return fmt.Errorf("%s: %s", field, msg)
		}
		return err
	}
	fmt.Fprintf(stdout, "created user %s <%s>%s\n", u.Username, u.Email, map[bool]string{true: " (administrator)"}[*admin])
	return nil
}

// readPassword reads a password and its confirmation: from the terminal
// without echo, or as two lines of standard input when it is not a
// terminal.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stdout, "Password (again): ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords do not match")
		}
		return string(p1), nil
	}
	sc := bufio.NewScanner(stdin)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if len(lines) < 2 {
		return "", errors.New("expected the password and its confirmation as two lines on standard input")
	}
	if lines[0] != lines[1] {
		return "", errors.New("the passwords do not match")
	}
	return lines[0], nil
}

// importUsers implements `quickstart import-users -db PATH FILE.csv`. It
// reports each row and returns an error when any row was rejected (the
// others are imported).
func importUsers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import-users", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dbPath := fs.String("db", defaultDB, "SQLite database file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: import-users -db PATH FILE.csv", errUsage)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	st, closeDB, err := openSQLite(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer closeDB()

	imported, rejected, err := importCSV(ctx, st.Users, f, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d imported, %d rejected\n", imported, rejected)
	if imported > 0 {
		fmt.Fprintln(stdout, "Imported users log in with their old passwords; each hash is replaced by the app's default (argon2id) at the user's first login.")
	}
	if rejected > 0 {
		return fmt.Errorf("%d row(s) rejected", rejected)
	}
	return nil
}

// importCSV creates a user in users for each row of the CSV in in,
// reporting each row to out. A row that is malformed, a duplicate, or
// refused by the store as loginkit.ErrInvalid is rejected with its reason
// and the import goes on; only a bad header or another store error stops
// it (rows before that one stay imported).
func importCSV(ctx context.Context, users loginkit.UserStore[*User], in io.Reader, out io.Writer) (imported, rejected int, err error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"email", "username", "password_hash"} {
		if _, ok := col[need]; !ok {
			return 0, 0, fmt.Errorf("the header row must name the columns email,username,password_hash[,active]; %q is missing", need)
		}
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for row := 2; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(out, "row %d: rejected: %v\n", row, err)
			rejected++
			continue
		}
		email, username, hash := field(rec, "email"), field(rec, "username"), field(rec, "password_hash")
		scheme, reason := checkImportRow(email, username, hash)
		active := true
		if v := field(rec, "active"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil && reason == "" {
				reason = fmt.Sprintf("active must be true or false, not %q", v)
			}
			active = b
		}
		if reason == "" {
			u := &User{}
			u.Email, u.Username, u.PasswordHash, u.Disabled = email, username, hash, !active
			now := time.Now().UTC()
			u.CreatedAt, u.UpdatedAt = now, now
			switch err := users.Create(ctx, u); {
			case errors.Is(err, loginkit.ErrDuplicate):
				reason = "a user with that email or username already exists"
			case errors.Is(err, loginkit.ErrInvalid):
				reason = fmt.Sprintf("the user store refused it as invalid (%v)", err)
			case err != nil:
				return imported, rejected, fmt.Errorf("row %d: %w", row, err)
			}
		}
		if reason != "" {
			if who := nonEmpty(username, email); who != "" {
				fmt.Fprintf(out, "row %d: rejected %s: %s\n", row, who, reason)
			} else {
				fmt.Fprintf(out, "row %d: rejected: %s\n", row, reason)
			}
			rejected++
			continue
		}
		fmt.Fprintf(out, "row %d: imported %s (%s hash)\n", row, nonEmpty(username, email), scheme)
		imported++
	}
	return imported, rejected, nil
}

// checkImportRow validates one CSV row and names the hash's scheme.
func checkImportRow(email, username, hash string) (scheme, reason string) {
	if email == "" && username == "" {
		return "", "needs an email or a username"
	}
	if strings.Contains(username, "@") {
		return "", "a username cannot contain '@'"
	}
	if !loginkit.ValidUsername(username) {
		return "", fmt.Sprintf("a username cannot contain '@' or a character that stands for it (here %s)", lookalikeAt(username))
	}
	if email != "" && (!validEmail(email) || !loginkit.ValidEmail(email)) {
		return "", fmt.Sprintf("invalid email %q", email)
	}
	scheme, err := identifyHash(hash)
	if err != nil {
		return "", err.Error()
	}
	return scheme, ""
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
