package conformance

import (
	"fmt"
	"time"

	"github.com/loginkit/loginkit"
)

// Member is a sample application user model: an Account plus fields of the
// application's own, of several kinds. Adapter tests use it with
// FillMember to check that the whole embedding struct round-trips.
type Member struct {
	loginkit.Account `bson:",inline"`

	DisplayName string    `bun:"display_name" bson:"display_name" json:"display_name"`
	IsAdmin     bool      `bun:"is_admin" bson:"is_admin" json:"is_admin"`
	Age         int       `bun:"age" bson:"age" json:"age"`
	Balance     float64   `bun:"balance" bson:"balance" json:"balance"`
	Birthday    time.Time `bun:"birthday,nullzero" bson:"birthday" json:"birthday"`
}

// FillMember sets m's own fields (not its Account) from seed: zero values
// for seed 0, and for other seeds distinct values including non-ASCII text.
// It has the signature UserHarness.Fill expects.
func FillMember(m *Member, seed int) {
	if seed == 0 {
		m.DisplayName, m.IsAdmin, m.Age, m.Balance, m.Birthday = "", false, 0, 0, time.Time{}
		return
	}
	m.DisplayName = fmt.Sprintf("Zoë Ångström 数 %d 🙂", seed)
	m.IsAdmin = seed%2 == 1
	m.Age = 20 + seed
	m.Balance = float64(seed) + 0.25
	m.Birthday = time.Date(1980+seed%40, time.Month(1+seed%12), 1+seed%28, 13, 14, 15, 123_000_000, time.UTC)
}
