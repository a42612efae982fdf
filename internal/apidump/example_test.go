package apidump_test

import (
	"fmt"
	"log"

	"github.com/loginkit/loginkit/internal/apidump"
)

// The exported API of the policies package, one line per name.
func Example() {
	lines, err := apidump.Dump("../../policies")
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range lines[:2] {
		fmt.Println(l)
	}
	// Output:
	// func All(...loginkit.Policy) loginkit.Policy
	// func Any(...loginkit.Policy) loginkit.Policy
}
