// Package seam lets loginkit's feature packages (such as
// loginkit/recovery) reach the parts of a Manager they are built on
// without the root package exporting them to applications.
//
// The root package sets Internals in its init function. A feature
// package passes it a *loginkit.Manager[U] and asserts the result to an
// interface of its own that lists the methods it uses; the value
// returned has exported methods on an unexported type, so none of them
// is part of the root package's API.
package seam

// Internals returns the internals of m, a *loginkit.Manager[U], or nil
// when m is not one (or is nil). Set by package loginkit.
var Internals func(m any) any

// The session values (Session.Values) in which the manager records the
// second-factor step; package twofactor reads them.
const (
	// PendingValue marks a "second factor pending" session.
	PendingValue = "loginkit.2fa.pending"
	// FactorKindValue is the kind of the second factor a login passed.
	FactorKindValue = "loginkit.2fa.kind"
	// FactorAtValue is when that factor was last verified, in Unix
	// milliseconds.
	FactorAtValue = "loginkit.2fa.at"
)
