package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/hashers"
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

// importUsers implements `quickstart import-users -db PATH [-dry-run]
// FILE.csv`. It reports each row, then per detected hash format how many
// rows were accepted and refused, and returns an error when any row was
// rejected (the others are imported). With -dry-run it imports into a
// throw-away copy of the database (VACUUM INTO a temporary file, or a
// fresh one when PATH does not exist), so that every check, duplicates
// included, runs exactly as in a real import, and PATH is left untouched.
func importUsers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import-users", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dbPath := fs.String("db", defaultDB, "SQLite database file")
	dry := fs.Bool("dry-run", false, "report what would be imported and refused, and write nothing")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: import-users -db PATH [-dry-run] FILE.csv", errUsage)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	path := *dbPath
	if *dry {
		tmp, err := os.MkdirTemp("", "quickstart-dry-run-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if path, err = dryRunCopy(ctx, *dbPath, filepath.Join(tmp, "dry-run.db")); err != nil {
			return err
		}
	}
	st, closeDB, err := openSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer closeDB()

	sum, err := importRows(ctx, st.Users, f, stdout, *dry)
	if err != nil {
		return err
	}
	sum.report(stdout)
	switch {
	case *dry:
		fmt.Fprintf(stdout, "dry run: %d would be imported, %d rejected; nothing was written to %s\n", sum.imported, sum.rejected, *dbPath)
	default:
		fmt.Fprintf(stdout, "%d imported, %d rejected\n", sum.imported, sum.rejected)
	}
	if sum.imported > 0 {
		fmt.Fprintln(stdout, "Imported users log in with their old passwords; each hash is replaced by the app's default (argon2id) at the user's first login.")
	}
	if sum.rejected > 0 {
		return fmt.Errorf("%d row(s) rejected", sum.rejected)
	}
	return nil
}

// dryRunCopy makes a consistent copy of the database at path in dst with
// VACUUM INTO, without migrating or otherwise writing path, and returns
// dst. When path does not exist, dst is left to be created fresh.
func dryRunCopy(ctx context.Context, path, dst string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return dst, nil
	}
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return "", fmt.Errorf("copying %s for the dry run: %w", path, err)
	}
	return dst, nil
}

// importSummary counts an import's rows, in all and per detected hash
// format.
type importSummary struct {
	imported, rejected int
	accepted, refused  map[string]int // per format; "" for none detected
}

// report writes the per-format counts.
func (s importSummary) report(out io.Writer) {
	formats := map[string]bool{}
	for f := range s.accepted {
		formats[f] = true
	}
	for f := range s.refused {
		formats[f] = true
	}
	if len(formats) == 0 {
		return
	}
	fmt.Fprintln(out, "per hash format:")
	for _, f := range slices.Sorted(maps.Keys(formats)) {
		name := f
		if name == "" {
			name = "(no readable hash)"
		}
		fmt.Fprintf(out, "  %-32s %d accepted, %d refused\n", name, s.accepted[f], s.refused[f])
	}
}

// importCSV creates a user in users for each row of the CSV in in,
// reporting each row to out. A row that is malformed, a duplicate, or
// refused by the store as loginkit.ErrInvalid is rejected with its reason
// and the import goes on; only a bad header or another store error stops
// it (rows before that one stay imported).
func importCSV(ctx context.Context, users loginkit.UserStore[*User], in io.Reader, out io.Writer) (imported, rejected int, err error) {
	s, err := importRows(ctx, users, in, out, false)
	return s.imported, s.rejected, err
}

// importRows is importCSV, counting rows per detected hash format, and
// wording each row's report as what would happen when dry is set.
func importRows(ctx context.Context, users loginkit.UserStore[*User], in io.Reader, out io.Writer, dry bool) (sum importSummary, err error) {
	sum.accepted, sum.refused = map[string]int{}, map[string]int{}
	verbOK, verbNo := "imported", "rejected"
	if dry {
		verbOK, verbNo = "would import", "would reject"
	}
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return sum, fmt.Errorf("reading the header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"email", "username", "password_hash"} {
		if _, ok := col[need]; !ok {
			return sum, fmt.Errorf("the header row must name the columns email,username,password_hash[,active]; %q is missing", need)
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
			fmt.Fprintf(out, "row %d: %s: %v\n", row, verbNo, err)
			sum.rejected++
			sum.refused[""]++
			continue
		}
		email, username, hash := field(rec, "email"), field(rec, "username"), field(rec, "password_hash")
		scheme, reason := checkImportRow(email, username, hash)
		format, _ := hashers.Identify(hash) // named even when refused
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
				return sum, fmt.Errorf("row %d: %w", row, err)
			}
		}
		if reason != "" {
			if who := nonEmpty(username, email); who != "" {
				fmt.Fprintf(out, "row %d: %s %s: %s\n", row, verbNo, who, reason)
			} else {
				fmt.Fprintf(out, "row %d: %s: %s\n", row, verbNo, reason)
			}
			sum.rejected++
			sum.refused[format]++
			continue
		}
		fmt.Fprintf(out, "row %d: %s %s (%s hash)\n", row, verbOK, nonEmpty(username, email), scheme)
		sum.imported++
		sum.accepted[scheme]++
	}
	return sum, nil
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
