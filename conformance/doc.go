// Package conformance holds the test suites that every loginkit store must
// pass: TestUsers for a UserStore, TestSessions for a server-side
// SessionStore, TestTokens for a TokenStore and TestSecondFactors for a
// SecondFactorStore (TestSealer and TestHasher
// do the same for stateless session sealers and password hashers). The
// project's own adapters
// run them, and so can anyone who writes a store of their own, from their
// own go test:
//
//	func TestMySessions(t *testing.T) {
//		conformance.TestSessions(t, conformance.SessionHarness{
//			New: func(tb testing.TB) loginkit.SessionStore {
//				return mystore.NewSessions(openTestDB(tb))
//			},
//		})
//	}
//
// Each suite runs one named subtest per clause of the contract, every one
// against a fresh, empty store from the harness's New, and each failure
// message names the clause that was broken, for example
//
//	Get after Delete: want ErrNotFound (SessionStore.Delete contract), got <nil>
//
// The cases, by suite:
//
//   - TestUsers: CreateAssignsID, CreateKeepsGivenID, CreateDuplicateID,
//     RoundTrip (every Account field, the application's own fields through
//     UserHarness.Fill, zero values, unicode, times within TimePrecision, by
//     LoadUser, FindByLogin and List), LoadUserMissing, FindByLogin (case,
//     surrounding space, full-width and case-folded variants),
//     LoginKeysRecomputed, DuplicateEmailOnCreate,
//     DuplicateUsernameOnCreate, DuplicateOnUpdate, UpdateOwnLoginNames,
//     EmptyUsernamesCoexist, UsernameWithAtRefused, EmailWithoutAtRefused,
//     UpdateUserAtomic (for stores implementing loginkit.UserUpdater: 20
//     concurrent increments, none lost), EmptyEmailsCoexist, UpdateMissing,
//     UpdateReplacesEveryField, UpdateFreesOldLoginNames, Delete, List,
//     ListDefaultLimit, ReturnedValuesIsolated, ConcurrentCreateSameLogin
//     (20 concurrent creates of one email, one username, one ID: exactly one
//     succeeds), ConcurrentReadWrite, ContextCancelled.
//   - TestSessions: SaveGetRoundTrip, SaveZeroValues, SaveEmptyKey,
//     SaveReplacesEveryField, SaveReplaceMovesUser,
//     SaveReplaceWithPastExpiry, GetMissing, GetExpired, Delete, ListByUser,
//     DeleteByUser, DeleteByUserExceptOtherUsersKey, DeleteExpired,
//     ReturnedValuesIsolated, ContextCancelled, Concurrent,
//     TouchOnlyExisting (for stores implementing loginkit.SessionToucher).
//   - TestTokens: CreateGetRoundTrip, CreateEmptySelector,
//     CreateDuplicateSelector, CreateOverExpiredSelector, GetMissing,
//     Consume, ConsumeMissing, ConsumeConcurrent (20 concurrent consumers:
//     exactly one gets the token), CreateConcurrentSameSelector, Expired,
//     Delete, ListByUser, DeleteByUser, DeleteExpired,
//     ReturnedValuesIsolated, ContextCancelled.
//   - TestSecondFactors: see its documentation; among others
//     AcceptTOTPStepConcurrent (20 concurrent callers with one TOTP step:
//     exactly one succeeds) and UseRecoveryCodeConcurrent (20 concurrent
//     uses of one recovery code: exactly one succeeds).
//
// Run one case with go test -run, for example
// -run 'TestMySessions/GetExpired'.
//
// Expiry is tested with times already in the past, never with sleeps, so
// the suites run in well under a few seconds against a network store.
//
// A store that cannot support an operation returns an error matching
// errors.ErrUnsupported from it; every case that meets such an error is
// skipped with a message saying so, rather than silently passing.
//
// DeleteExpired may report 0 in a store with native expiry; a count
// above the number of expired records, or a live record gone, fails.
// DeleteByUser counts are checked with unexpired records only.
//
// Contexts: every store method called with an already cancelled context
// must return an error matching context.Canceled and must not change what
// is stored. An in-memory store meets this by checking ctx.Err() first.
// (A method returning errors.ErrUnsupported is let off this check.)
//
// Times: a store keeps times to at least the harness's TimePrecision
// (default one millisecond); the suites compare instants within it and
// require zero times to come back zero.
package conformance
