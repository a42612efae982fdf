package loginkit

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Failed logins take the time of the slowest password check.
//
// An unknown login costs one check with the manager's hasher (see
// dummyVerify), but a wrong password costs a check in the scheme of the
// stored hash, which for users imported from another system can be much
// slower (Werkzeug's scrypt:32768:8:1, Django's PBKDF2 at 260 000
// iterations or more) or faster. Left alone, the difference tells which
// logins exist. So the manager learns, per hash scheme, how long a failed
// password login takes (the median wall time of Authenticate's last few
// wrong-password outcomes in that scheme), and pads every outcome that is
// ErrInvalidCredentials — unknown login, wrong password, no password,
// hostile input — to the slowest scheme's median, by waiting. The cost:
// every failed login takes as long as a failed login against the slowest
// scheme seen in the last schemeTimingTTL, in wall time; the padding is a
// timer, not CPU work. Successful logins are not padded.

const (
	// schemeTimingSamples is how many recent failures of a scheme its
	// time is the median of: one slow outlier (a GC pause, a burst of
	// load) does not move the floor, a lasting change does within a few
	// failures.
	schemeTimingSamples = 5
	// schemeTimingTTL forgets a scheme not seen failing for that long, so
	// that the floor falls once the last slow hashes are upgraded.
	schemeTimingTTL = 7 * 24 * time.Hour
	// maxSchemeTimings bounds the schemes tracked; further ones share
	// one entry.
	maxSchemeTimings = 32
)

// failureTiming is the per-manager record of failed-login durations.
type failureTiming struct {
	mu      sync.Mutex
	schemes map[string]*schemeTiming
}

// schemeTiming holds a scheme's recent failure durations.
type schemeTiming struct {
	recent [schemeTimingSamples]time.Duration
	n      int // samples held, up to schemeTimingSamples
	next   int // where the next sample goes
	seen   time.Time
}

// median returns the median of the samples held.
func (st *schemeTiming) median() time.Duration {
	s := st.recent
	ds := s[:st.n]
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// observe records that a failed login against a hash of the given scheme
// took d.
func (f *failureTiming) observe(scheme string, d time.Duration, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.schemes == nil {
		f.schemes = make(map[string]*schemeTiming)
	}
	st := f.schemes[scheme]
	if st == nil {
		if len(f.schemes) >= maxSchemeTimings {
			scheme = "~other"
			st = f.schemes[scheme]
		}
		if st == nil {
			st = &schemeTiming{}
			f.schemes[scheme] = st
		}
	}
	st.recent[st.next] = d
	st.next = (st.next + 1) % schemeTimingSamples
	st.n = min(st.n+1, schemeTimingSamples)
	st.seen = now
}

// floor returns the longest median among the schemes seen recently.
func (f *failureTiming) floor(now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var longest time.Duration
	for name, st := range f.schemes {
		if now.Sub(st.seen) > schemeTimingTTL {
			delete(f.schemes, name)
			continue
		}
		longest = max(longest, st.median())
	}
	return longest
}

// pad waits until the failure that started at start has taken the floor,
// or ctx ends.
func (f *failureTiming) pad(ctx context.Context, start time.Time) {
	now := time.Now()
	wait := f.floor(now) - now.Sub(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// hashScheme names the scheme and cost of an encoded hash without
// knowing its format: the '$'-separated fields, the first non-empty one
// (the scheme's name) kept and salts and digests (later long fields with
// no '=', ',' or ':', which parameters have) left out.
// "scrypt:32768:8:1$salt$hex" is "scrypt:32768:8:1", "$2b$12$..." is
// "$2b$12", "pbkdf2_sha256$260000$salt$hash" is "pbkdf2_sha256$260000".
//
// Formats that glue their name to the digest or have no name (Spring's
// "{pbkdf2}hex", bare hex or Base64) keep their "{id}" and the length,
// which tells Spring's presets apart: "{pbkdf2}<80 hex>" is
// "{pbkdf2}#80". phpass ("$P$B…", "$H$9…") keeps its iteration-count
// character: "$P$B".
func hashScheme(encoded string) string {
	var b strings.Builder
	named := false // the first non-empty field names the scheme: kept
	phpass := false
	for i, field := range strings.Split(encoded, "$") {
		if named && len(field) >= 12 && !strings.ContainsAny(field, "=,:") {
			if phpass {
				b.WriteString("$" + field[:1])
				phpass = false
			}
			continue
		}
		if i == 0 && len(field) >= 12 && !strings.ContainsAny(encoded, "$=,:") {
			id := ""
			if strings.HasPrefix(field, "{") {
				if end := strings.IndexByte(field, '}'); end > 0 && end <= 64 {
					id = field[:end+1]
				}
			}
			field = id + "#" + strconv.Itoa(len(field)-len(id))
		}
		phpass = !named && (field == "P" || field == "H")
		named = named || field != ""
		if i > 0 {
			b.WriteByte('$')
		}
		b.WriteString(field)
		if b.Len() > 64 {
			break
		}
	}
	return b.String()
}
