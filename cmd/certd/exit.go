package main

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/clientconf"
	"github.com/certd/certd/internal/store"
)

// Exit codes, for scripts (documented in docs/cli.md and certd help).
const (
	exitOK          = 0
	exitFailure     = 1   // anything else: the server failed, a file could not be written
	exitUsage       = 2   // bad flags or arguments, a missing or bad setting
	exitRefused     = 3   // the server refused the request (400, 409: invalid input, wrong state)
	exitDenied      = 4   // authentication failed or the key's role does not allow it (401, 403)
	exitNotFound    = 5   // no such order, request or account (404, or an operator command's record)
	exitTimeout     = 6   // --timeout passed before the certificate was issued
	exitUnreachable = 7   // the server could not be reached (network, TLS)
	exitNotReady    = 8   // not issued yet (order fetch), or domains still unvalidated (domain check)
	exitInterrupted = 130 // Ctrl-C
)

// usageError is the user's to fix on the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// notReady is a state a script may wait out.
type notReady struct{ msg string }

func (e notReady) Error() string { return e.msg }

// notFound is a record an operator command names that does not exist:
// its message alone (not the store's wording), exit code 5.
type notFound struct{ what string }

func (e notFound) Error() string { return e.what }
func (e notFound) Unwrap() error { return store.ErrNotFound }

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var ue usageError
	var ce *clientconf.UsageError
	var nr notReady
	var ae *client.Error
	var ne net.Error
	var ue2 *url.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce), cobraUsage(err):
		return exitUsage
	case errors.As(err, &nr):
		return exitNotReady
	case errors.Is(err, store.ErrNotFound):
		return exitNotFound // an operator command's order, request or account
	case errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ae):
		switch {
		case ae.Has("cert_unavailable_processing"):
			return exitNotReady
		case ae.Status == 401 || ae.Status == 403:
			return exitDenied
		case ae.Status == 404:
			return exitNotFound
		case ae.Status == 400 || ae.Status == 409 || ae.Status == 413 || ae.Status == 415:
			return exitRefused
		}
		return exitFailure
	case errors.As(err, &ne), errors.As(err, &ue2):
		return exitUnreachable
	}
	return exitFailure
}

// cobraUsage recognizes the usage errors cobra makes itself (an unknown
// command, a required flag missing), which it returns as plain errors.
func cobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command ") || strings.HasPrefix(m, "required flag(s) ") ||
		strings.HasPrefix(m, "if any flags in the group ")
}

// args wraps a cobra argument rule so that its complaint is a usage error.
func args(rule cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := rule(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// strictGroups makes every command group (certd order, certd request,
// ...) refuse an unknown subcommand with a usage error: cobra would
// print the group's help and exit 0, which a script would take for
// success.
func strictGroups(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		strictGroups(c)
	}
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.Args = args(cobra.NoArgs)
		cmd.RunE = func(cmd *cobra.Command, a []string) error { return cmd.Help() }
	}
}
