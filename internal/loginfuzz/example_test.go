package loginfuzz_test

import (
	"fmt"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/loginfuzz"
)

// A store's fuzz test calls loginfuzz.Run with a constructor for the
// store; the seeds it starts from include names no account can have.
func Example() {
	for _, s := range loginfuzz.Seeds[:4] {
		fmt.Printf("%q valid=%v\n", s[1], loginkit.ValidLoginName(s[1]))
	}
	// Output:
	// "ann" valid=true
	// "a\x00" valid=false
	// "adm\u200bin" valid=false
	// "ann\u202eevil" valid=false
}
