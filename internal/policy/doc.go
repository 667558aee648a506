// Package policy holds certd's pure checks: no I/O, no clock, no state.
//
// Each check is one function with its source (an RFC, the CA/Browser Forum
// Baseline Requirements, or the v1 API reference) named in its comment, in
// the manner of zlint. Checks return *problem.Problem values so that the
// order service can report every bad field of a request at once.
package policy
