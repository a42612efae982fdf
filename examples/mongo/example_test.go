package main

import "fmt"

// ExampleUser_HasRole shows the application's own field that the admin
// API's policy reads; mongostore keeps it in the same document as the
// account.
func ExampleUser_HasRole() {
	u := &User{DisplayName: "Ann", Roles: []string{"member", "admin"}}
	fmt.Println(u.HasRole("admin"), u.HasRole("auditor"))
	// Output: true false
}
