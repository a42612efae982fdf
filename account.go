package loginkit

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Account carries what the library needs to know about a user. Embed it in
// your own user model, the way Flask applications mix UserMixin into theirs:
//
//	type Staff struct {
//		loginkit.Account
//		IsAdmin  bool
//		Nickname string
//	}
//
// Then *Staff is an AccountUser, and every adapter persists the whole Staff
// struct, IsAdmin and Nickname included.
//
// The struct tags name the SQL columns (bun), BSON fields and JSON keys the
// adapters use.
type Account struct {
	// ID is the user's stable identifier. UserStore.Create fills in NewID()
	// when it is empty.
	ID string `bun:"id,pk" bson:"_id" json:"id"`
	// Email is the user's email address as entered; it may be empty. It is
	// unique after NormalizeLogin and may be used as the login name.
	Email string `bun:"email" bson:"email" json:"email"`
	// Username is an optional login name; it may be empty and must not
	// contain '@'. It is unique after NormalizeLogin.
	Username string `bun:"username" bson:"username" json:"username"`
	// EmailKey and UsernameKey are NormalizeLogin(Email) and
	// NormalizeLogin(Username). Stores maintain them (see NormalizeKeys)
	// for their unique indexes; applications need not set them.
	EmailKey    string `bun:"email_key,nullzero,unique" bson:"email_key,omitempty" json:"email_key,omitempty"`
	UsernameKey string `bun:"username_key,nullzero,unique" bson:"username_key,omitempty" json:"username_key,omitempty"`
	// PasswordHash is the encoded password hash (see package hashers); empty
	// for an account that cannot log in with a password.
	PasswordHash string `bun:"password_hash" bson:"password_hash" json:"password_hash"`
	// Disabled marks an inactive account: it cannot log in and its
	// sessions stop working. The zero value is an active account.
	Disabled bool `bun:"disabled" bson:"disabled" json:"disabled"`
	// SessionVersion changes on a password change and on "log out
	// everywhere"; sessions and remember tokens issued under another
	// version are refused.
	SessionVersion int64 `bun:"session_version" bson:"session_version" json:"session_version"`
	// CreatedAt and UpdatedAt are maintained by the manager's helpers.
	CreatedAt time.Time `bun:"created_at" bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at" bson:"updated_at" json:"updated_at"`
	// LastLoginAt is the time of the last successful login.
	LastLoginAt time.Time `bun:"last_login_at,nullzero" bson:"last_login_at" json:"last_login_at"`
	// FailedLogins counts failed password checks since the last success.
	FailedLogins int `bun:"failed_logins" bson:"failed_logins" json:"failed_logins"`
	// LastFailedLoginAt is the time of the last failed password check.
	LastFailedLoginAt time.Time `bun:"last_failed_login_at,nullzero" bson:"last_failed_login_at" json:"last_failed_login_at"`
	// LockedUntil refuses logins until that time (see policies.Lockout).
	LockedUntil time.Time `bun:"locked_until,nullzero" bson:"locked_until" json:"locked_until"`
	// ConfirmedEmail is the email address, normalised (NormalizeLogin),
	// that the user last proved to own by following a confirmation link
	// (see recovery.Service.ConfirmEmail); empty when none. The email counts as
	// confirmed only while it equals NormalizeLogin(Email), so any change
	// of Email, by whatever code, leaves the account unconfirmed.
	ConfirmedEmail string `bun:"confirmed_email,nullzero" bson:"confirmed_email" json:"confirmed_email"`
	// EmailConfirmedAt is when ConfirmedEmail was confirmed.
	EmailConfirmedAt time.Time `bun:"email_confirmed_at,nullzero" bson:"email_confirmed_at" json:"email_confirmed_at"`
}

// EmailConfirmed reports whether the account's current email address is
// the one the user last confirmed (see ConfirmedEmail). An account
// without an email is never confirmed.
func (a *Account) EmailConfirmed() bool {
	k := NormalizeLogin(a.Email)
	return k != "" && a.ConfirmedEmail == k
}

// UserID returns a.ID.
func (a *Account) UserID() string { return a.ID }

// IsActive reports !a.Disabled.
func (a *Account) IsActive() bool { return !a.Disabled }

// LoginAccount returns a itself, so that every type embedding Account is an
// AccountUser.
func (a *Account) LoginAccount() *Account { return a }

// NormalizeKeys sets EmailKey and UsernameKey from Email and Username.
// Stores call it before every write.
func (a *Account) NormalizeKeys() {
	a.EmailKey = NormalizeLogin(a.Email)
	a.UsernameKey = NormalizeLogin(a.Username)
}

// ValidUsername reports whether username may be stored: its normalised
// form (NormalizeLogin) must not contain '@', so that no username can be
// taken for an email address, not even one written with a full-width
// "＠" that normalises to '@'. The empty username is valid (no username).
// Register and every store in this module refuse an invalid username with
// ErrInvalid.
func ValidUsername(username string) bool {
	return !strings.Contains(NormalizeLogin(username), "@")
}

// CheckLoginNames returns an error matching ErrInvalid, naming the
// problem, when the account's username or email holds a code point that
// is not ValidLoginName, when its username is not ValidUsername or its
// email is not ValidEmail, and nil otherwise. Stores call it before
// writing, so that a hostile name is refused as invalid input rather
// than reaching the database (whose driver may refuse a NUL byte).
func (a *Account) CheckLoginNames() error {
	if len(strings.TrimSpace(a.Username)) > maxLoginNameBytes || len(strings.TrimSpace(a.Email)) > maxLoginNameBytes {
		return fmt.Errorf("%w: a username or email address is at most %d bytes long", ErrInvalid, maxLoginNameBytes)
	}
	if !ValidLoginName(a.Username) {
		return fmt.Errorf("%w: the username contains a character that is not allowed", ErrInvalid)
	}
	if !ValidLoginName(a.Email) {
		return fmt.Errorf("%w: the email address contains a character that is not allowed", ErrInvalid)
	}
	if !ValidUsername(a.Username) {
		return fmt.Errorf("%w: a username must not contain '@'", ErrInvalid)
	}
	if !ValidEmail(a.Email) {
		return fmt.Errorf("%w: an email address must contain '@'", ErrInvalid)
	}
	return nil
}

// ValidEmail reports whether email may be stored: empty (no email), or
// containing '@' once normalised (NormalizeLogin). Together with
// ValidUsername this keeps emails and usernames apart, so that no email
// can capture another user's username in FindByLogin, which prefers email
// matches. It does not check deliverability. Register and every store in
// this module refuse an invalid email with ErrInvalid.
func ValidEmail(email string) bool {
	n := NormalizeLogin(email)
	return n == "" || strings.Contains(n, "@")
}

// maxLoginNameBytes bounds a login name (ValidLoginName).
const maxLoginNameBytes = 512

// ValidLoginName reports whether s, an email address or username as
// entered (surrounding white space aside), holds only code points a login
// name may contain: those of the PRECIS FreeformClass (RFC 8264), checked
// with golang.org/x/text/secure/precis. It refuses invalid UTF-8, control
// characters (NUL, tab, newline), unassigned code points and
// default-ignorable ones: zero-width spaces and joiners, bidirectional
// controls, the soft hyphen. Spaces, punctuation and symbols are allowed
// here; Register asks more of a new name (see Manager.Register). The
// empty string is valid (no name). Every store in this module refuses an
// account whose email or username is not valid, with ErrInvalid, and
// Authenticate treats such a login as wrong credentials without asking
// the store. A name longer than 512 bytes (surrounding white space aside;
// RFC 5321 caps an address at 254) is not valid either: databases refuse
// such index keys (PostgreSQL's B-tree, MongoDB's) with an error that is
// no fault of the store.
func ValidLoginName(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) > maxLoginNameBytes {
		return false
	}
	if isPrintableASCII(s) {
		return true
	}
	if !utf8.ValidString(s) {
		return false // precis would replace the bad bytes
	}
	_, err := precis.OpaqueString.String(s)
	return err == nil
}

// validNewLoginName reports whether s may name a new account: it must be
// ValidLoginName and, once trimmed, a username in the sense of RFC 8265
// (section 3.1): userparts separated by single spaces, each accepted by
// the UsernameCaseMapped profile (letters and digits of any script and
// printable ASCII, no symbols, compatibility characters or mixed-direction
// text). It is a check only: keys stay NormalizeLogin's.
func validNewLoginName(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	if !ValidLoginName(s) {
		return false
	}
	for part := range strings.SplitSeq(s, " ") {
		if _, err := precis.UsernameCaseMapped.String(part); err != nil {
			return false
		}
	}
	return true
}

// ValidPassword reports whether a password holds only code points the
// PRECIS OpaqueString profile (RFC 8265, section 4.2) allows: no control
// characters, unassigned or default-ignorable code points, and valid
// UTF-8. The empty password is valid here (Register refuses it
// separately). Register, ChangePassword and SetPassword refuse a password
// that is not valid with ErrInvalid, and Authenticate refuses it as wrong
// credentials. The password itself is hashed as given, not mapped, so
// that hashes made elsewhere from unnormalised passwords keep verifying.
func ValidPassword(pw string) bool {
	if pw == "" {
		return true
	}
	if isPrintableASCII(pw) {
		return true
	}
	if !utf8.ValidString(pw) {
		return false
	}
	_, err := precis.OpaqueString.String(pw)
	return err == nil
}

// isPrintableASCII reports whether s holds only printable ASCII and
// spaces, which every PRECIS profile used here allows.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// NormalizeLogin returns the form of an email address or username that
// uniqueness and login lookups compare: surrounding white space removed,
// Unicode NFKC normalisation, then Unicode case folding (so "Straße" and
// "STRASSE" are the same name). A name that is not ValidLoginName has no
// key: NormalizeLogin returns "" for it, which no store finds. It is
// idempotent.
func NormalizeLogin(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if isASCIILowerClean(s) {
		return s
	}
	if !ValidLoginName(s) {
		return ""
	}
	s = norm.NFKC.String(s)
	s = cases.Fold().String(s)
	s = norm.NFKC.String(s)
	return strings.TrimSpace(s)
}

// isASCIILowerClean reports whether s is printable ASCII without upper case
// letters, for which NormalizeLogin is the identity.
func isASCIILowerClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// NewID returns a new random user ID: 32 lower-case hex digits (128 bits
// from crypto/rand).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// accountOf returns the Account embedded in u, or nil when u's type embeds
// none.
func accountOf(u User) *Account {
	if au, ok := u.(AccountUser); ok {
		return au.LoginAccount()
	}
	return nil
}
