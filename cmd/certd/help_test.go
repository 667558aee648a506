package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpPages: every command says what it does, and every command that
// does something shows an example; completion scripts generate.
func TestHelpPages(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		t.Run(c.CommandPath(), func(t *testing.T) {
			if c.Short == "" {
				t.Error("no Short description")
			}
			if c.Runnable() && !c.HasSubCommands() && c.Example == "" && c.Name() != "help" && !strings.HasPrefix(c.CommandPath(), "certd completion") {
				t.Error("no Example")
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
	walk(root)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run("completion "+shell, func(t *testing.T) {
			var out bytes.Buffer
			root := newRoot(&out, &bytes.Buffer{})
			root.SetArgs([]string{"completion", shell})
			if err := root.Execute(); err != nil || !strings.Contains(out.String(), "certd") {
				t.Fatalf("%v: %.200s", err, out.String())
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"usage", usageError{errTest}, exitUsage},
		{"cobra's unknown command", errorString(`unknown command "x" for "certd"`), exitUsage},
		{"cobra's required flag", errorString(`required flag(s) "csr" not set`), exitUsage},
		{"other", errTest, exitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.code {
				t.Fatalf("exitCode = %d, want %d", got, tc.code)
			}
		})
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

var errTest = errorString("boom")
