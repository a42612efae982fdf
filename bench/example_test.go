package bench_test

import (
	"fmt"

	"github.com/loginkit/loginkit/bench"
)

// Example lists the stacks the benchmarks and the load test compare.
func Example() {
	for _, s := range bench.Stacks() {
		fmt.Println(s.Name, s.Redis)
	}
	// Output:
	// bare false
	// loginkit-memstore false
	// loginkit-cookiestore false
	// scs-memstore false
	// gorilla-cookiestore false
	// loginkit-redisstore true
	// loginkit-redisstore-near true
	// scs-redisstore true
}
