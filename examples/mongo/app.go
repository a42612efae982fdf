package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/policies"
)

// User is the application's user model: the library's Account, inlined at
// the top level of the document, plus fields of the application's own.
type User struct {
	loginkit.Account `bson:",inline"`
	DisplayName      string   `bson:"display_name"`
	Roles            []string `bson:"roles"`
}

// HasRole reports whether u has the role.
func (u *User) HasRole(role string) bool { return slices.Contains(u.Roles, role) }

// Config is what the application needs to know.
type Config struct {
	// MongoURL is a mongodb:// connection string (LOGINKIT_MONGO_URL).
	MongoURL string
	// Database is the database holding the three collections.
	Database string
	// Admins are the emails that get the "admin" role when they register.
	Admins []string
	// Hasher hashes passwords; required.
	Hasher loginkit.Hasher
	// InsecureCookies leaves the Secure attribute off, for plain HTTP on
	// the loopback interface.
	InsecureCookies bool
	// Logger receives the manager's logs; default slog.Default().
	Logger *slog.Logger
}

// App is the application: a JSON API over one MongoDB database.
type App struct {
	m        *loginkit.Manager[*User]
	client   *mongo.Client
	users    *mongostore.Users[User, *User]
	sessions *mongostore.Sessions
	tokens   *mongostore.Tokens
	admins   []string
	h        http.Handler
}

// Open connects to MongoDB, creates the indexes and builds the manager.
func Open(ctx context.Context, c Config) (*App, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(c.MongoURL).SetTimeout(10 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("connecting to MongoDB: %w", err)
	}
	db := client.Database(c.Database)
	a := &App{
		client:   client,
		users:    mongostore.NewUsers[User](db),
		sessions: mongostore.NewSessions(db),
		tokens:   mongostore.NewTokens(db),
	}
	for _, e := range c.Admins {
		a.admins = append(a.admins, loginkit.NormalizeLogin(e))
	}
	if err := mongostore.Migrate(ctx, db); err != nil {
		_ = client.Disconnect(ctx)
		return nil, fmt.Errorf("creating the MongoDB indexes: %w", err)
	}
	b := loginkit.New[*User]().
		Users(a.users).
		Sessions(a.sessions).
		Tokens(a.tokens).
		Hasher(c.Hasher)
	if c.Logger != nil {
		b.Logger(c.Logger)
	}
	if c.InsecureCookies {
		b.Cookies(loginkit.CookieOptions{Insecure: true}).Development(true)
	}
	if a.m, err = b.Build(); err != nil {
		_ = client.Disconnect(ctx)
		return nil, err
	}
	a.h = a.routes()
	return a, nil
}

// Close disconnects from MongoDB.
func (a *App) Close(ctx context.Context) error { return a.client.Disconnect(ctx) }

// Handler returns the application's HTTP handler.
func (a *App) Handler() http.Handler { return a.h }

// SweepExpired deletes expired sessions and tokens every interval until
// ctx ends, where the server has no TTL indexes to do it (FerretDB).
func (a *App) SweepExpired(ctx context.Context, every time.Duration) {
	sm, serr := a.sessions.ExpiryMode(ctx)
	tm, terr := a.tokens.ExpiryMode(ctx)
	if serr == nil && terr == nil && sm == mongostore.ExpiryTTL && tm == mongostore.ExpiryTTL {
		return // the server's TTL indexes remove expired documents
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.sessions.DeleteExpired(ctx); err != nil {
				slog.Warn("sweeping expired sessions", "error", err)
			}
			if _, err := a.tokens.DeleteExpired(ctx); err != nil {
				slog.Warn("sweeping expired tokens", "error", err)
			}
		}
	}
}

// userJSON is a user as the API shows it.
type userJSON struct {
	ID          string   `json:"id"`
	Username    string   `json:"username"`
	Email       string   `json:"email"`
	DisplayName string   `json:"display_name"`
	Roles       []string `json:"roles"`
}

func toJSON(u *User) userJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Roles: roles}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

// decode reads a small JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<14)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "expected a JSON object")
		return false
	}
	return true
}

func (a *App) routes() http.Handler {
	m := a.m
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/register", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Email, Password, DisplayName string }
		if !decode(w, r, &in) {
			return
		}
		if len(in.Password) < 8 {
			writeError(w, http.StatusUnprocessableEntity, "weak_password", "use at least 8 characters")
			return
		}
		u := &User{DisplayName: strings.TrimSpace(in.DisplayName), Roles: []string{"member"}}
		u.Username, u.Email = strings.TrimSpace(in.Username), strings.TrimSpace(in.Email)
		if slices.Contains(a.admins, loginkit.NormalizeLogin(u.Email)) {
			u.Roles = append(u.Roles, "admin")
		}
		err := m.Register(r.Context(), u, in.Password)
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		switch {
		case errors.Is(err, loginkit.ErrDuplicate):
			writeError(w, http.StatusConflict, "duplicate", "that username or email is already registered")
		case errors.Is(err, loginkit.ErrInvalid):
			writeError(w, http.StatusUnprocessableEntity, "invalid", "a username without '@', or an email, is required")
		case err != nil:
			a.unavailable(w, r, err)
		default:
			writeJSON(w, http.StatusCreated, toJSON(u))
		}
	})
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Login, Password string
			Remember        bool
		}
		if !decode(w, r, &in) {
			return
		}
		u, err := m.Authenticate(r.Context(), in.Login, in.Password)
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{Remember: in.Remember})
		}
		switch {
		case errors.Is(err, loginkit.ErrInvalidCredentials), errors.Is(err, loginkit.ErrInactive), errors.Is(err, loginkit.ErrLocked):
			writeError(w, http.StatusUnauthorized, "invalid_credentials", "Invalid username or password")
		case err != nil:
			a.unavailable(w, r, err)
		default:
			writeJSON(w, http.StatusOK, toJSON(u))
		}
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			slog.Warn("logout", "error", err)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("GET /api/me", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		id := m.Identity(r)
		writeJSON(w, http.StatusOK, map[string]any{"user": toJSON(u), "remembered": id.Remembered})
	})))
	mux.Handle("GET /api/sessions", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		cur, _ := m.CurrentSession(r)
		list, err := a.sessions.ListByUser(r.Context(), u.ID)
		if err != nil {
			a.unavailable(w, r, err)
			return
		}
		type row struct {
			Created   time.Time `json:"created"`
			LastSeen  time.Time `json:"last_seen"`
			IP        string    `json:"ip"`
			UserAgent string    `json:"user_agent"`
			Current   bool      `json:"current"`
		}
		out := make([]row, 0, len(list))
		for _, s := range list {
			out = append(out, row{s.CreatedAt, s.LastSeenAt, s.IP, s.UserAgent, cur != nil && s.Key == cur.Key})
		}
		writeJSON(w, http.StatusOK, out)
	})))
	mux.Handle("POST /api/sessions/revoke-others", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutOthers(w, r); err != nil {
			a.unavailable(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	adminOnly := m.Guard(policies.RequireUser(func(u *User) bool { return u.HasRole("admin") }))
	mux.Handle("GET /api/admin/users", adminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, total, err := a.users.List(r.Context(), loginkit.ListOptions{Limit: 100})
		if err != nil {
			a.unavailable(w, r, err)
			return
		}
		out := make([]userJSON, 0, len(list))
		for _, u := range list {
			out = append(out, toJSON(u))
		}
		writeJSON(w, http.StatusOK, map[string]any{"total": total, "users": out})
	})))
	return http.NewCrossOriginProtection().Handler(m.Middleware(mux))
}

func (a *App) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	slog.Error("request failed", "path", r.URL.Path, "error", err)
	writeError(w, http.StatusServiceUnavailable, "unavailable", "the service is unavailable; please try again")
}
