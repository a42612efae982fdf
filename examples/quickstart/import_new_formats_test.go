package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newFormatUsers are the users of testdata/import_new_formats.csv (made by
// testdata/gen_import_new_formats.sh with the real libraries), their old
// passwords and the format their hash is reported as.
var newFormatUsers = []struct{ name, password, format string }{
	{"wp", "wordpress-pw", "phpass"},                       // WordPress 6.1.9 class-phpass.php, $P$
	{"wp68", "wordpress-68-pw", "wordpress-bcrypt"},        // WordPress 6.8.12 wp_hash_password, $wp$2y$
	{"phpbb", "phpbb-pw", "phpass"},                        // passlib phpass, phpBB's $H$
	{"perl", "passlib-sha512-pw", "sha512-crypt"},          // passlib sha512_crypt, rounds=1000
	{"shadow5", "shadow-sha256-pw", "sha256-crypt"},        // mkpasswd (libxcrypt) $5$, default rounds
	{"shadow6", "shadow-sha512-pw", "sha512-crypt"},        // mkpasswd (libxcrypt) $6$, default rounds
	{"node", "node-argon2-pw", "argon2id"},                 // npm argon2 0.45.1 default, m=,p=,t= order
	{"s00", "password123", "spring-bcrypt"},                // Spring {bcrypt}
	{"s01", "password123", "spring-pbkdf2-sha1"},           // {pbkdf2}, v5.5 preset, hex
	{"s02", "password123", "spring-pbkdf2-sha256"},         // {pbkdf2@SpringSecurity_v5_8}, hex
	{"s03", "password123", "spring-pbkdf2-sha256"},         // v5.8 preset, Base64, no prefix
	{"s04", "password123", "spring-scrypt"},                // {scrypt}, v4.1 preset
	{"s05", "password123", "spring-scrypt"},                // v5.8 preset, no prefix
	{"s06", "password123", "spring-argon2"},                // {argon2}, v5.2 preset
	{"s07", "password123", "spring-argon2"},                // {argon2@SpringSecurity_v5_8}
	{"s08", "password123", "spring-sha256"},                // {sha256} StandardPasswordEncoder
	{"s09", "password123", "spring-pbkdf2-sha1-or-sha256"}, // StandardPasswordEncoder, no prefix
}

// TestImportNewFormats imports one user per format added for imports: a
// dry run first reports per format what it would accept and why it would
// refuse each refused row, and writes nothing; the real import then
// accepts the same rows, and each user logs in with the old password and
// leaves an argon2id hash behind.
func TestImportNewFormats(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	csv := filepath.Join("testdata", "import_new_formats.csv")
	refusals := []string{
		"would reject old: md5-crypt password hash refused: MD5-crypt ($1$) is 1000 rounds of MD5, too weak to keep; have the user reset the password",
		"would reject s10: spring-md5 password hash refused: Spring's {MD5} is one salted MD5 digest",
		"would reject noop: spring-noop password hash refused: {noop} is a plaintext password",
		"would reject bare: unsalted-md5 password hash refused: a bare md5 digest",
		"would reject evil: sha512-crypt password hash with parameters out of the safe range (sha512-crypt rounds 999999999 above 10000000)",
	}
	want := append([]string{
		"per hash format:",
		"phpass                           2 accepted, 0 refused",
		"sha512-crypt                     2 accepted, 1 refused",
		"sha256-crypt                     1 accepted, 0 refused",
		"argon2id                         1 accepted, 0 refused",
		"wordpress-bcrypt                 1 accepted, 0 refused",
		"spring-pbkdf2-sha256             2 accepted, 0 refused",
		"spring-scrypt                    2 accepted, 0 refused",
		"md5-crypt                        0 accepted, 1 refused",
		"spring-md5                       0 accepted, 1 refused",
		"spring-noop                      0 accepted, 1 refused",
		"unsalted-md5                     0 accepted, 1 refused",
		"dry run: 17 would be imported, 5 rejected; nothing was written to " + db,
	}, refusals...)
	for _, u := range newFormatUsers {
		want = append(want, "would import "+u.name+" ("+u.format+" hash)")
	}
	out, code := command(t, "", "import-users", "-db", db, "-dry-run", csv)
	if code != 1 {
		t.Fatalf("dry run with refused rows: exit %d, want 1\n%s", code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the dry-run report lacks %q", w)
		}
	}
	if t.Failed() {
		t.Fatalf("report:\n%s", out)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("the dry run created or touched %s: %v", db, err)
	}

	// The real import accepts what the dry run said it would.
	out, code = command(t, "", "import-users", "-db", db, csv)
	if code != 1 || !strings.Contains(out, "17 imported, 5 rejected") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	// A dry run against the now existing database sees every row as a
	// duplicate, and leaves the file as it was.
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	out, code = command(t, "", "import-users", "-db", db, "-dry-run", csv)
	if code != 1 || !strings.Contains(out, "dry run: 0 would be imported, 22 rejected") ||
		!strings.Contains(out, "would reject wp: a user with that email or username already exists") {
		t.Fatalf("second dry run: exit %d\n%s", code, out)
	}
	if after, err := os.ReadFile(db); err != nil || string(after) != string(before) {
		t.Fatalf("the dry run changed %s (%v)", db, err)
	}

	ta := newTestAppOn(t, db, defaultHasher())
	for i, u := range newFormatUsers {
		t.Run(u.name, func(t *testing.T) {
			before := ta.user(u.name).PasswordHash
			if i%4 == 0 { // a wrong password is refused (a few users: each costs a hash)
				wantStatus(t, "wrong password", ta.client().login(u.name, "not "+u.password, false), http.StatusUnauthorized)
			}
			ta.client().mustLogin(u.name, u.password, false)
			after := ta.user(u.name).PasswordHash
			scheme, err := identifyHash(after)
			if err != nil || scheme != "argon2id" || after == before {
				t.Fatalf("after the first login the hash is %q (%s, %v), want a new argon2id hash in place of %q", after, scheme, err, before)
			}
		})
	}
}
