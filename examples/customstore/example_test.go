package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// ExampleOpenJSONUsers stores a user in a JSON file and finds it again by
// its username in another case.
func ExampleOpenJSONUsers() {
	dir, err := os.MkdirTemp("", "customstore-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	users, err := OpenJSONUsers(filepath.Join(dir, "users.json"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	u := &User{Team: "blue"}
	u.Username, u.Email = "Ann", "ann@example.com"
	if err := users.Create(ctx, u); err != nil {
		panic(err)
	}
	found, err := users.FindByLogin(ctx, "ANN")
	if err != nil {
		panic(err)
	}
	fmt.Println(found.Username, found.Team, found.ID == u.ID)
	// Output: Ann blue true
}
