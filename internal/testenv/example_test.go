package testenv_test

import (
	"fmt"

	"github.com/loginkit/loginkit/internal/testenv"
)

// A test that needs a server reads its URL with Require, which skips the test
// (or fails it under CI=true) when the variable is unset:
//
//	url := testenv.Require(t, testenv.RedisURL)
//
// A fault test runs a private server it can stop and start:
//
//	s := testenv.StartRedis(t)   // s.URL: redis://127.0.0.1:<port>/0
//	s.Stop(t)                    // by PID; the port now refuses connections
//	s.Start(t)                   // same port, same data
//
// scripts/test exports these variables:
func Example() {
	for _, name := range []string{testenv.PostgresURL, testenv.RedisURL, testenv.MongoURL, testenv.Chromium, testenv.FerretDB} {
		fmt.Println(name)
	}
	// Output:
	// LOGINKIT_POSTGRES_URL
	// LOGINKIT_REDIS_URL
	// LOGINKIT_MONGO_URL
	// LOGINKIT_CHROMIUM
	// LOGINKIT_FERRETDB
}
