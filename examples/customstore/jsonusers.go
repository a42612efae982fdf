package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/loginkit/loginkit"
)

// User is this application's user model.
type User struct {
	loginkit.Account
	Team string `json:"team"`
}

// JSONUsers is a loginkit.UserStore[*User] that keeps every user in one
// JSON file, rewritten atomically on each change. It is the kind of store
// an application writes for its own storage; the conformance suite in
// jsonusers_test.go proves it meets the contract.
type JSONUsers struct {
	path string
	mu   sync.RWMutex
	byID map[string]User
}

var _ loginkit.UserStore[*User] = (*JSONUsers)(nil)
var _ loginkit.UserUpdater[*User] = (*JSONUsers)(nil)

// OpenJSONUsers loads (or starts) the store kept in path.
func OpenJSONUsers(path string) (*JSONUsers, error) {
	s := &JSONUsers{path: path, byID: map[string]User{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	var list []User
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	for _, u := range list {
		s.byID[u.ID] = u
	}
	return s, nil
}

// save writes the file atomically: a temporary file beside it, flushed to
// disk, then renamed over it. The file holds password hashes, so it is
// created readable by its owner only.
func (s *JSONUsers) save() error {
	list := make([]User, 0, len(s.byID))
	for _, u := range s.byID {
		list = append(list, u)
	}
	slices.SortFunc(list, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".users-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), s.path)
}

// LoadUser implements loginkit.UserLoader.
func (s *JSONUsers) LoadUser(ctx context.Context, id string) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return nil, loginkit.ErrNotFound
	}
	return &u, nil
}

// FindByLogin implements loginkit.UserStore: email matches first, then
// usernames, both compared after loginkit.NormalizeLogin.
func (s *JSONUsers) FindByLogin(ctx context.Context, login string) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := loginkit.NormalizeLogin(login)
	if key == "" {
		return nil, loginkit.ErrNotFound
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var byName *User
	for _, u := range s.byID {
		if u.EmailKey == key {
			return &u, nil
		}
		if u.UsernameKey == key && byName == nil {
			byName = &u
		}
	}
	if byName != nil {
		return byName, nil
	}
	return nil, loginkit.ErrNotFound
}

// conflict reports whether another user already has u's email or username.
func (s *JSONUsers) conflict(u *User) bool {
	for id, o := range s.byID {
		if id == u.ID {
			continue
		}
		if u.EmailKey != "" && o.EmailKey == u.EmailKey || u.UsernameKey != "" && o.UsernameKey == u.UsernameKey {
			return true
		}
	}
	return false
}

// validate refuses, with loginkit.ErrInvalid, a user whose login names
// the library does not allow (Account.CheckLoginNames): a username
// containing '@', an email without one, or either holding control,
// invisible or invalid characters.
func validate(u *User) error {
	if err := u.CheckLoginNames(); err != nil {
		return fmt.Errorf("jsonusers: %w", err)
	}
	return nil
}

// Create implements loginkit.UserStore.
func (s *JSONUsers) Create(ctx context.Context, u *User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *u
	if c.ID == "" {
		c.ID = loginkit.NewID()
	}
	if _, ok := s.byID[c.ID]; ok {
		return loginkit.ErrDuplicate
	}
	if err := s.put(c); err != nil {
		return err
	}
	u.ID = c.ID
	return nil
}

// Update implements loginkit.UserStore.
func (s *JSONUsers) Update(ctx context.Context, u *User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replace(u)
}

// replace stores u over the user with its ID; the caller holds s.mu.
func (s *JSONUsers) replace(u *User) error {
	if _, ok := s.byID[u.ID]; !ok {
		return loginkit.ErrNotFound
	}
	return s.put(*u)
}

// put stores u under its ID with its login keys normalised, refusing
// login names validate refuses, and with loginkit.ErrDuplicate an email or
// username another user has. When the file cannot be written, the store is
// left as it was. The caller holds s.mu.
func (s *JSONUsers) put(u User) error {
	if err := validate(&u); err != nil {
		return err
	}
	u.NormalizeKeys()
	if s.conflict(&u) {
		return loginkit.ErrDuplicate
	}
	old, had := s.byID[u.ID]
	s.byID[u.ID] = u
	return s.saveOrUndo(u.ID, old, had)
}

// saveOrUndo writes the file after the user with the given ID changed;
// when the file cannot be written, it puts back that user's entry as it
// was (old, or none when the store had none). The caller holds s.mu.
func (s *JSONUsers) saveOrUndo(id string, old User, had bool) error {
	err := s.save()
	if err != nil {
		if had {
			s.byID[id] = old
		} else {
			delete(s.byID, id)
		}
	}
	return err
}

// UpdateUser implements the optional loginkit.UserUpdater: it applies
// change to the stored user while holding the store's lock, so the
// manager's writes (a login recorded, a password reset) never overwrite
// each other. A store that can offer this should: the conformance suite
// checks it with 20 concurrent updates.
func (s *JSONUsers) UpdateUser(ctx context.Context, id string, change func(u *User) error) (*User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.byID[id]
	if !ok {
		return nil, loginkit.ErrNotFound
	}
	u := cur
	if err := change(&u); err != nil {
		return nil, err
	}
	if u.ID != id {
		return nil, fmt.Errorf("jsonusers: change may not alter the ID: %w", loginkit.ErrInvalid)
	}
	if err := s.replace(&u); err != nil {
		return nil, err
	}
	out := s.byID[id]
	return &out, nil
}

// Delete implements loginkit.UserStore.
func (s *JSONUsers) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[id]
	if !ok {
		return nil
	}
	delete(s.byID, id)
	return s.saveOrUndo(id, old, true)
}

// List implements loginkit.UserStore.
func (s *JSONUsers) List(ctx context.Context, opts loginkit.ListOptions) ([]*User, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	all := make([]User, 0, len(s.byID))
	for _, u := range s.byID {
		all = append(all, u)
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b User) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	limit := opts.Limit
	if limit <= 0 {
		limit = 50
	}
	start := min(max(opts.Offset, 0), len(all))
	end := min(start+limit, len(all))
	page := make([]*User, 0, end-start)
	for i := start; i < end; i++ {
		u := all[i]
		page = append(page, &u)
	}
	return page, len(all), nil
}
