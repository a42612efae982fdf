// Package recovery adds password reset and email confirmation to a
// loginkit Manager: it sends single-use links by mail (package mail) and
// acts on them, on top of the manager's user store, token store and
// hasher.
//
// New builds a Service from a Manager and Options. RequestReset answers
// the same way, in about the same time, whether an account exists or
// not, and sends the link in the background; VerifyReset checks a link
// for the page that asks for the new password; CompleteReset sets the
// password, revokes every session and remember token of the user and can
// log the user in. SendConfirmation, VerifyConfirmation and ConfirmEmail
// prove that a user owns an email address (see
// loginkit.Account.EmailConfirmed and policies.ConfirmedEmail). Rate limits
// per account and per client answer ErrRateLimited.
package recovery
