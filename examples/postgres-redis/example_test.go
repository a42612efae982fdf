package main

import "fmt"

// ExampleConfigFromEnv shows the variables an instance reads.
func ExampleConfigFromEnv() {
	env := map[string]string{
		"LOGINKIT_POSTGRES_URL": "postgres://app:secret@127.0.0.1:5432/app?sslmode=disable",
	}
	_, err := ConfigFromEnv(func(k string) string { return env[k] })
	fmt.Println(err)

	env["LOGINKIT_REDIS_URL"] = "redis://127.0.0.1:6379/0"
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	fmt.Println(c.RedisURL, err)
	// Output:
	// set LOGINKIT_REDIS_URL (redis://host:6379/0)
	// redis://127.0.0.1:6379/0 <nil>
}
