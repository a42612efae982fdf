package hotpath_test

import (
	"fmt"
	"net/http"

	"github.com/loginkit/loginkit/internal/hotpath"
)

func Example() {
	h := http.Header{"Cookie": {"theme=dark; session=abc123"}}
	v, bad := hotpath.CookieValue(h, "session", 4096)
	fmt.Println(v, bad)
	fmt.Println(hotpath.HashToken("abc123"))
	// Output:
	// abc123 false
	// bKE9UspwyIPg8LsQHkJaiehiTeUdstI5JZOvaoQRgJA
}
