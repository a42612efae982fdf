package loginkit

import (
	"strings"
	"testing"
)

// TestHashSchemeKeepsCostsOfImportedFormats checks the timing groups of
// the formats whose cost or preset is not in a '$'-separated parameter
// field: Spring's "{id}hex" and bare hex or Base64 (one group per id and
// length, not one per hash, which would fill the table and push slow
// schemes into a shared, averaged-down entry) and phpass (one group per
// iteration count: WordPress's 2^13 and passlib's 2^19 must not share an
// average).
func TestHashSchemeKeepsCostsOfImportedFormats(t *testing.T) {
	same := [][2]string{
		{"{pbkdf2}" + strings.Repeat("ab", 40), "{pbkdf2}" + strings.Repeat("cd", 40)},
		{strings.Repeat("ab", 40), strings.Repeat("ef", 40)},
		{strings.Repeat("A", 64), strings.Repeat("B", 64)},
		{"$P$Bsaltsalt" + strings.Repeat("a", 22), "$P$Bpeppers1" + strings.Repeat("b", 22)},
		{"{scrypt}$e0801$" + strings.Repeat("a", 88) + "$" + strings.Repeat("b", 44), "{scrypt}$e0801$" + strings.Repeat("c", 88) + "$" + strings.Repeat("d", 44)},
	}
	for _, p := range same {
		if a, b := hashScheme(p[0]), hashScheme(p[1]); a != b {
			t.Errorf("hashScheme(%q) = %q but hashScheme(%q) = %q; want one group", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{
		{"{pbkdf2}" + strings.Repeat("ab", 40), "{pbkdf2}" + strings.Repeat("ab", 48)},
		{"{pbkdf2}" + strings.Repeat("ab", 40), "{sha256}" + strings.Repeat("ab", 40)},
		{strings.Repeat("ab", 40), strings.Repeat("ab", 48)},
		{"$P$Bsaltsalt" + strings.Repeat("a", 22), "$P$Jsaltsalt" + strings.Repeat("a", 22)},
		{"$6$rounds=656000$saltsaltsaltsalt$" + strings.Repeat("a", 86), "$6$saltsaltsaltsalt$" + strings.Repeat("a", 86)},
	}
	for _, p := range differ {
		if a, b := hashScheme(p[0]), hashScheme(p[1]); a == b {
			t.Errorf("hashScheme(%q) = hashScheme(%q) = %q; want two groups", p[0], p[1], a)
		}
	}
}
