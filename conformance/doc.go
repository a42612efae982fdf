// Package conformance holds the test suites that every loginkit store must
// pass: TestUsers for a UserStore, TestSessions for a server-side
// SessionStore, TestTokens for a TokenStore, TestSecondFactors for a
// SecondFactorStore and TestPasskeys for a PasskeyStore (TestSealer,
// TestHasher and TestLimiter do the same for stateless session sealers,
// password hashers and rate-limit counters). The
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
//   - TestUsers: CreateAssignsID, CreateKeepsGivenID, CreateDuplicateID
//     (an ID differing from a stored one only in case is no duplicate),
//     RoundTrip (every Account field, the application's own fields through
//     UserHarness.Fill, zero values, unicode, times within TimePrecision
//     and in time.UTC, by LoadUser, FindByLogin and List),
//     LoadUserMissing (IDs are exact and case-sensitive; IDs and login
//     names are apart: LoadUser of a login name, FindByLogin of an ID find
//     nothing), FindByLogin (case, surrounding space, full-width and case-folded
//     variants), LoginKeysRecomputed, DuplicateEmailOnCreate,
//     DuplicateUsernameOnCreate, DuplicateOnUpdate, UpdateOwnLoginNames,
//     EmptyUsernamesCoexist, UsernameWithAtRefused, EmailWithoutAtRefused,
//     HostileLoginNamesRefused (NUL bytes, invisible and bidirectional
//     controls, invalid UTF-8: ErrInvalid, and lookups find nothing),
//     UpdateUserAtomic (concurrent increments through
//     loginkit.UserUpdater, none lost), UpdateUserObeysUpdateRules
//     (ErrInvalid, ErrDuplicate and change's own error, each storing
//     nothing on any field), UpdateUserKeepsID (a change altering the ID
//     is ErrInvalid and stores nothing), UpdateUserRacingUpdate (UpdateUser
//     racing a sequence of plain Updates: the last Update survives),
//     BlankLoginNamesCoexist (names of
//     white space only are no names), IDPrefixes ("user-1" beside
//     "user-10", "ann" beside "anna"), EmptyEmailsCoexist, UpdateMissing,
//     UpdateReplacesEveryField, UpdateFreesOldLoginNames, Delete, List
//     (UpdatedAt falling as CreatedAt rises), ListDefaultLimit, ListLimits
//     (1001 users; every Limit up to 1000 honoured exactly),
//     ReturnedValuesIsolated (also UpdateUser's result and the value given
//     to change), ConcurrentCreateSameLogin (20 concurrent creates of one
//     email, one username, one ID: exactly one succeeds),
//     ConcurrentUpdateSameLogin (20 concurrent Updates giving 20 users one
//     free email, then one free username: exactly one succeeds),
//     ConcurrentReadWrite, ContextCancelled (every method, UpdateUser
//     included), LockoutBoundUnderConcurrency (through the manager, 60
//     concurrent wrong guesses against policies.Lockout(5, ...) cost at
//     most 5 password checks).
//   - TestSessions: SaveGetRoundTrip, SaveZeroValues, SaveEmptyKey,
//     SaveReplacesEveryField, SaveReplaceMovesUser,
//     SaveReplaceWithPastExpiry (and the key then saved for another user
//     belongs to that user only), GetMissing, GetExpired, ZeroExpiresAt
//     (a zero ExpiresAt is long past), ExpiryBoundary (ExpiresAt exactly
//     "now" is expired, and swept), KeysCaseSensitive (keys differing only in case,
//     or beginning with one another, are different sessions, also as
//     DeleteByUser's exceptKey; '_' and '%' are no wildcards),
//     UserIDPrefixes, LongValues (a
//     256-byte User-Agent), TimesInUTC (times given in another zone come
//     back in time.UTC), Delete, ListByUser (newest CreatedAt first, the
//     other times not rising with it; sessions created at one instant
//     listed each), ListByUserMany (130 sessions of one
//     user, all listed and all deleted), DeleteByUser,
//     DeleteByUserExceptOtherUsersKey, DeleteExpired (exact count; a
//     session past AbsoluteExpiresAt but not ExpiresAt stays),
//     DeleteExpiredThenByUser, ReturnedValuesIsolated (Touch's argument
//     included), ContextCancelled (Touch included; a cancelled
//     DeleteExpired removes nothing), Concurrent, TouchOnlyExisting,
//     TouchRacingDelete (Touch racing Delete of the same sessions: they
//     end up deleted), ExpiryExtended (Save and Touch move ExpiresAt later:
//     the session outlives its old expiry), AnonymousSession (a session
//     with an empty UserID, as the manager keeps for anonymous visitors'
//     values, round-trips and is never listed or deleted with a user's).
//   - TestTokens: CreateGetRoundTrip, CreateEmptySelector,
//     CreateDuplicateSelector, CreateOverExpiredSelector (the new token
//     differs in every field, and the user index moves to its new owner
//     and purpose; re-created by its own owner, it is listed once), GetMissing, Consume, ConsumeMissing, ConsumeConcurrent
//     (20 concurrent consumers of each token: exactly one gets it),
//     CreateConcurrentSameSelector, Expired, ZeroExpiresAt, ExpiryBoundary,
//     SelectorsCaseSensitive (also selectors beginning with one another;
//     '_' and '%' are no wildcards),
//     UserIDAndPurposePrefixes (PurposeRemember
//     beside "remember-rotated"), TimesInUTC, Delete, ListByUser
//     (tokens created at one instant listed each), ListByUserMany (130 tokens of one user, all listed and all
//     deleted), DeleteByUser, DeleteExpired, DeleteExpiredThenByUser,
//     ReturnedValuesIsolated, ContextCancelled.
//   - TestSecondFactors: RoundTrip, GetMissing, EmptyValuesRefused,
//     SetTOTPReplaces, SetTOTPKeepsRecoveryCodes, AcceptTOTPStep (a step
//     equal to the last is a replay), AcceptTOTPStepMissing,
//     AcceptTOTPStepConcurrent (20 concurrent callers with one TOTP step:
//     exactly one succeeds), AcceptTOTPStepConcurrentRising,
//     SetTOTPRacingAcceptTOTPStep (a re-enrolment racing accepted steps
//     keeps the new secret), UseRecoveryCode, UseRecoveryCodeConcurrent
//     (20 concurrent uses of one recovery code: exactly one succeeds),
//     UseDifferentRecoveryCodesConcurrent, SetRecoveryCodesRacingUse
//     (regenerating while old codes are used: no old code comes back),
//     SetTOTPRacingUseRecoveryCode (a re-enrolment racing code uses: no
//     used code comes back), SetRecoveryCodesRacingAcceptTOTPStep (a
//     regeneration racing accepted steps: no accepted step is forgotten),
//     RecoveryCodeMatchIsExact (case, surrounding space, prefixes and
//     extensions of a hash are other hashes), SetRecoveryCodesReplaces,
//     SetRecoveryCodesKeepsTOTP, UsersIsolated, UserIDsPrefixesOfEachOther
//     ("user-1" beside "user-10", with hashes that make user ID and hash
//     run together alike), EnabledAtUTC (a time given in another zone
//     comes back in time.UTC; a zero time stays zero), Delete,
//     ReturnedValuesIsolated, ContextCancelled.
//   - TestPasskeys: RoundTrip, GetMissing, EmptyValuesRefused,
//     DuplicateIDRefused (also for another user, and 20 concurrent
//     creations of one ID: exactly one succeeds), IDsExact (a prefix, a
//     trailing NUL and one flipped bit are other IDs), ListPerUser (passkeys created at one instant
//     listed each), Rename,
//     Delete, DeleteUser, SignCount, SignCountConcurrent (20 concurrent
//     compare-and-sets from one old count: exactly one succeeds),
//     RenameRacingSignCount (renames racing sign-ins: the count never
//     goes back), SignCountRacingDelete (sign-ins racing deletions: a
//     deleted passkey stays deleted),
//     ReturnedValuesIsolated, ContextCancelled.
//   - TestLimiter (for a ratelimit.Limiter, the rate-limit counter of
//     password reset and email confirmation): AllowsUpToCount,
//     WindowSlides (with the now passed in, never the limiter's clock),
//     ZonesDoNotMatter (the same instants given in different zones),
//     RefusedNotCounted, KeysIndependent, KeysExact (keys that are
//     prefixes of each other, differ in case, in a trailing space, after
//     250 common bytes, or after a NUL byte), EventsBelongToKeyNotRate (a
//     call with another Count or Per counts the key's earlier events),
//     LargeCount (exactly 300 of 300), ZeroCountRefuses (a Count of 0
//     allows nothing), Unlimited, Concurrent (20 concurrent calls on one
//     key: exactly Count allowed), ContextCancelled (and records nothing).
//   - TestHasher: RoundTrip, WrongPassword (also surrounding white space
//     and NUL bytes), Salted, EmptyPassword, Unicode, MaxPasswordBytes,
//     MalformedHashes, TruncatedOrAlteredHashes (a fresh hash cut short by
//     up to 24 characters, or with one character changed, never
//     matches), Outdated, Imported, ContextCancelled, Concurrent.
//   - TestSealer: RoundTrip, RoundTripZeroValues, RoundTripFlags,
//     SealDoesNotModifyInput, FreshNonce, FreshNonceAcrossInstances (two
//     sealers from New never return the same value: no per-instance
//     counter nonce), CookieSafe, SealNil, TamperedCharacter,
//     RemovedCharacter, Truncated, Extended, Garbage, Expired (also two
//     seconds past: no grace period), TooLarge, ReturnedValuesIsolated,
//     Concurrent, Rotation.
//
// Run one case with go test -run, for example
// -run 'TestMySessions/GetExpired'.
//
// Expiry is tested with times already in the past, never with long
// sleeps (ExpiryExtended, without NewWithClock, waits 300ms).
// The boundary, an ExpiresAt of exactly "now", is tested through the
// harness's NewWithClock when it is set (a clock the suite sets), and
// otherwise against the store's own clock, which must not run behind the
// test's.
//
// Optional interfaces: a store that implements loginkit.UserUpdater or
// loginkit.SessionToucher has those cases run; one that does not has them
// skipped. A store with a method of that name (in any letter case) whose
// signature does not satisfy the interface fails, as does one whose
// harness declares the interface (UserHarness.Updater,
// SessionHarness.Toucher) without implementing it: the manager would
// silently fall back to a racier path.
//
// Races: ConcurrentCreateSameLogin, ConcurrentUpdateSameLogin,
// UpdateUserAtomic, UpdateUserRacingUpdate, TouchRacingDelete,
// ConsumeConcurrent, CreateConcurrentSameSelector,
// AcceptTOTPStepConcurrent, SetTOTPRacingAcceptTOTPStep,
// UseRecoveryCodeConcurrent, UseDifferentRecoveryCodesConcurrent,
// SetRecoveryCodesRacingUse, SetTOTPRacingUseRecoveryCode,
// SetRecoveryCodesRacingAcceptTOTPStep, RenameRacingSignCount,
// SignCountRacingDelete and TestLimiter's Concurrent repeat their
// rounds for a time budget
// (rounds until 400ms have passed, at least one), every racing
// goroutine starting each step at the same instant, and pass the racing
// calls a context that yields the processor whenever the store consults
// it. A store whose read and write are two steps that each honour ctx,
// with no pause between them, is caught in every run: the package's own
// tests run each of these cases 10 times against such a store and
// require 10 failures.
//
// errors.ErrUnsupported: Unsupported lists the only operations that may
// return it (SessionStore.ListByUser, DeleteByUser and DeleteExpired, for
// stores without server-side records or with native expiry, and
// TokenStore.DeleteExpired; no operation of a SecondFactorStore, Hasher,
// SessionSealer or Limiter). A case that meets it from one of those is
// skipped with a message saying so; from any other operation it fails.
//
// DeleteExpired: a store without native expiry (the default) must report
// exactly the number of expired records it removed; one whose harness
// sets NativeExpiry may report fewer, 0 included. A count above the
// number of expired records, or a live record gone, always fails. The
// cases that count never look an expired record up before sweeping, so a
// store that also drops expired records lazily on lookups counts them
// all.
// DeleteByUser counts are checked with unexpired records only.
//
// Contexts: every store method called with an already cancelled context
// must return an error matching context.Canceled and must not change what
// is stored. An in-memory store meets this by checking ctx.Err() first.
// (A method that may return errors.ErrUnsupported and does is let off.)
//
// Times: a store keeps times to at least the harness's TimePrecision
// (default one millisecond); the suites compare instants within it,
// require zero times to come back zero, and require times to come back in
// time.UTC (the location itself, not only the instant).
package conformance
