package hashers

import (
	"encoding/hex"
	"strings"
)

// Dovecot's passdb and LDAP's userPassword write "{SCHEME}" before a
// hash. Before a crypt(3) string or a PHC Argon2 string the prefix only
// names what the string itself says: the string is read as it would be
// without it, and must be of the kind the prefix names.
var schemePrefixInner = map[string]func(string) bool{
	"CRYPT":        func(s string) bool { return s != "" && s[0] != '{' },
	"SHA256-CRYPT": func(s string) bool { return hasPrefix(s, "$5$") },
	"SHA512-CRYPT": func(s string) bool { return hasPrefix(s, "$6$") },
	"BLF-CRYPT":    func(s string) bool { return hasPrefix(s, "$2") },
	"MD5-CRYPT":    func(s string) bool { return hasPrefix(s, "$1$") },
	"DES-CRYPT":    func(s string) bool { return len(s) == 13 },
	"ARGON2I":      func(s string) bool { return hasPrefix(s, "$argon2i$") },
	"ARGON2ID":     func(s string) bool { return hasPrefix(s, "$argon2id$") },
}

// schemePrefixWeak are the Dovecot and LDAP schemes of plaintext, one
// fast digest or a challenge-response secret: refused.
var schemePrefixWeak = map[string]bool{
	"PLAIN": true, "CLEAR": true, "CLEARTEXT": true, "PLAIN-TRUNC": true,
	"SHA": true, "SHA1": true, "SSHA": true, "SHA256": true, "SSHA256": true, "SHA512": true, "SSHA512": true,
	"MD5": true, "SMD5": true, "PLAIN-MD5": true, "LDAP-MD5": true, "PLAIN-MD4": true,
	"CRAM-MD5": true, "HMAC-MD5": true, "DIGEST-MD5": true, "OTP": true, "SCRAM-SHA-1": true, "SCRAM-SHA-256": true,
}

// parseSchemePrefix reads Dovecot's and LDAP's "{SCHEME}hash" (passlib's
// ldap_* wrappers too), or returns ok=false for braces that hold none of
// their schemes.
func parseSchemePrefix(e string) (s spec, err error, ok bool) {
	id, rest, found := strings.Cut(e[1:], "}")
	if !found {
		return spec{}, nil, false
	}
	// Dovecot reads scheme names case-insensitively, and LDAP entries
	// often hold "{crypt}". (Spring's lower-case ids were read before.)
	id = asciiUpper(id)
	if inner, known := schemePrefixInner[id]; known {
		if !inner(rest) {
			return spec{}, unknown("{%s} does not hold a %s hash", id, strings.ToLower(id)), true
		}
		s, err := parseFormat(rest)
		return s, err, true
	}
	switch {
	case id == "PBKDF2" && hasPrefix(rest, "$"):
		s, err := parseDovecotPBKDF2(rest)
		return s, err, true
	case id == "PBKDF2", id == "PBKDF2-SHA256", id == "PBKDF2-SHA512":
		// passlib's ldap_pbkdf2_*: its $pbkdf2…$ layout without the ident.
		d, name, ident := digestSHA1, "passlib-pbkdf2-sha1", "$pbkdf2$"
		switch id {
		case "PBKDF2-SHA256":
			d, name, ident = digestSHA256, "passlib-pbkdf2-sha256", "$pbkdf2-sha256$"
		case "PBKDF2-SHA512":
			d, name, ident = digestSHA512, "passlib-pbkdf2-sha512", "$pbkdf2-sha512$"
		}
		s, err := parsePBKDF2Dollar(ident+rest, ident, d, "", name)
		return s, err, true
	case schemePrefixWeak[id]:
		s, err := refused("ldap-"+strings.ToLower(id), "{"+id+"} is plaintext, one fast digest or a challenge-response secret, far too weak to keep; have the user reset the password")
		return s, err, true
	}
	return spec{}, nil, false
}

// parseDovecotPBKDF2 reads Dovecot's PBKDF2 scheme, $1$salt$rounds$hex:
// PBKDF2-HMAC-SHA1 of the password with the salt string, 20 bytes.
func parseDovecotPBKDF2(e string) (spec, error) {
	const scheme = "dovecot-pbkdf2"
	parts := strings.Split(e, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "1" || len(parts[2]) < minSalt || len(parts[2]) > maxSalt {
		return spec{}, unknown("%s: expected $1$salt$rounds$hex", scheme)
	}
	iter, ok := parseNum(parts[3])
	if !ok || iter < 1 || (len(parts[3]) > 1 && parts[3][0] == '0') {
		return spec{}, unknown("%s: malformed rounds", scheme)
	}
	key, err := hex.DecodeString(parts[4])
	if err != nil || len(key) != digestSHA1.size() {
		return spec{}, unknown("%s: expected 40 hex digits", scheme)
	}
	return spec{scheme: scheme, algo: algoPBKDF2, iter: iter, digest: digestSHA1, salt: []byte(parts[2]), key: key}, nil
}

// asciiUpper upper-cases the ASCII letters of s, and only those.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
