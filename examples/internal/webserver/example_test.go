package webserver_test

import (
	"fmt"

	"github.com/loginkit/loginkit/examples/internal/webserver"
)

// An example marks its cookies Secure unless it listens on loopback only.
func ExampleIsLoopback() {
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", ":8080", "0.0.0.0:8080", "example.com:443"} {
		fmt.Println(addr, webserver.IsLoopback(addr))
	}
	// Output:
	// 127.0.0.1:8080 true
	// [::1]:8080 true
	// localhost:8080 true
	// :8080 false
	// 0.0.0.0:8080 false
	// example.com:443 false
}
