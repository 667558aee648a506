// Package problem defines the one typed error that certd's core returns.
//
// Every failure a client can cause or observe is a *Problem: a Kind (which
// maps to an HTTP status only at the edge), a machine-readable Code such as
// "required_param:csr", and a Description a person understands. Several
// problems found in one request travel together as a List, so that a client
// learns about every bad field at once.
package problem

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a problem. The edge maps kinds to HTTP statuses.
type Kind int

// The kinds of problem. Zero is Internal so that an uninitialised Problem
// never leaks as a client error.
const (
	Internal Kind = iota
	InvalidParam
	NotFound
	Unauthorized
	Forbidden
	Conflict
	RateLimited
	Unavailable
)

func (k Kind) String() string {
	switch k {
	case InvalidParam:
		return "invalid parameter"
	case NotFound:
		return "not found"
	case Unauthorized:
		return "unauthorized"
	case Forbidden:
		return "forbidden"
	case Conflict:
		return "conflict"
	case RateLimited:
		return "rate limited"
	case Unavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// Problem is a single error with a kind, a code and a description.
// Err, when set, is the underlying cause; it is never shown to clients.
type Problem struct {
	Kind        Kind
	Code        string
	Description string
	Err         error
}

func (p *Problem) Error() string {
	if p.Err != nil {
		return fmt.Sprintf("%s: %s: %v", p.Code, p.Description, p.Err)
	}
	return p.Code + ": " + p.Description
}

func (p *Problem) Unwrap() error { return p.Err }

// Is lets errors.Is match problems by kind and code, so callers can write
// errors.Is(err, problem.New(problem.NotFound, "not_found", "")).
func (p *Problem) Is(target error) bool {
	t, ok := target.(*Problem)
	if !ok {
		return false
	}
	return t.Kind == p.Kind && (t.Code == "" || t.Code == p.Code)
}

// New returns a problem of the given kind.
func New(kind Kind, code, description string) *Problem {
	return &Problem{Kind: kind, Code: code, Description: description}
}

// Required reports a missing parameter with the v1 code required_param:<name>.
func Required(name, description string) *Problem {
	return New(InvalidParam, "required_param:"+name, description)
}

// Invalid reports a bad parameter value with the v1 code invalid_param:<name>.
func Invalid(name, description string) *Problem {
	return New(InvalidParam, "invalid_param:"+name, description)
}

// Internalf wraps an unexpected error. Its text stays in logs; clients see a
// generic description.
func Internalf(format string, args ...any) *Problem {
	return &Problem{Kind: Internal, Code: "internal_error", Description: "An unexpected error occurred.", Err: fmt.Errorf(format, args...)}
}

// List is several problems reported together. Its kind is the kind of its
// first problem.
type List []*Problem

func (l List) Error() string {
	parts := make([]string, len(l))
	for i, p := range l {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap exposes the members to errors.Is and errors.As.
func (l List) Unwrap() []error {
	errs := make([]error, len(l))
	for i, p := range l {
		errs[i] = p
	}
	return errs
}

// Err returns nil for an empty list, so that validators can end with
// `return problems.Err()`.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Flatten returns the problems carried by err, wrapping anything that is not
// a problem as Internal.
func Flatten(err error) []*Problem {
	if err == nil {
		return nil
	}
	var l List
	if errors.As(err, &l) {
		return l
	}
	var p *Problem
	if errors.As(err, &p) {
		return []*Problem{p}
	}
	return []*Problem{{Kind: Internal, Code: "internal_error", Description: "An unexpected error occurred.", Err: err}}
}

// KindOf returns the kind of err's first problem (Internal for plain errors).
func KindOf(err error) Kind {
	ps := Flatten(err)
	if len(ps) == 0 {
		return Internal
	}
	return ps[0].Kind
}
