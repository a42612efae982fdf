package storekit_test

import (
	"errors"
	"fmt"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

func Example() {
	const errs = storekit.Errs("mystore")
	offset, limit := storekit.Page(loginkit.ListOptions{Limit: 5000})
	fmt.Println(offset, limit)
	err := errs.Duplicate("create user", "email")
	fmt.Println(err, errors.Is(err, loginkit.ErrDuplicate))
	b := storekit.AppendUvarint(nil, 300)
	v, n := storekit.Uvarint(b)
	fmt.Printf("%x %d %d\n", b, v, n)
	// Output:
	// 0 1000
	// mystore: create user: email already taken: loginkit: duplicate true
	// ac02 300 2
}
