package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/clientconf"
	"github.com/certd/certd/internal/keygen"
	"github.com/certd/certd/internal/progress"
)

// connHelp is the part of every client command's help about connecting.
const connHelp = `
Connection: --url, --account and --api-key (or CERTD_URL, CERTD_ACCOUNT_ID,
CERTD_API_KEY), --ca-file to trust certd's root (CERTD_CA_FILE), or a
profile of ~/.config/certd/config.toml (--profile or CERTD_PROFILE). Flags
win over the environment, which wins over the profile.`

// conn is the connection flags of a client command.
type conn struct {
	flags   clientconf.Settings
	profile string
	json    bool
}

// register adds the connection flags (those the command does not have
// yet) and --json.
func (c *conn) register(cmd *cobra.Command) {
	f := cmd.Flags()
	add := func(name, usage string, p *string) {
		if f.Lookup(name) == nil {
			f.StringVar(p, name, "", usage)
		}
	}
	add("url", "server base URL (or CERTD_URL)", &c.flags.URL)
	add("account", "account id (or CERTD_ACCOUNT_ID)", &c.flags.AccountID)
	add("api-key", "API key (or CERTD_API_KEY; a flag shows in the process list, prefer the variable or a profile)", &c.flags.APIKey)
	add("ca-file", "PEM file of the root to trust for the server's TLS certificate (or CERTD_CA_FILE)", &c.flags.CAFile)
	add("profile", "profile of ~/.config/certd/config.toml (or CERTD_PROFILE)", &c.profile)
	f.BoolVar(&c.json, "json", false, "print JSON for scripts instead of text")
	cmd.Long = strings.TrimSpace(cmd.Long + "\n" + connHelp)
}

// client resolves the settings and makes the SDK client.
func (c *conn) client() (*client.Client, error) {
	s, err := clientconf.Resolve(c.flags, c.profile, os.Getenv, clientconf.DefaultPath())
	if err != nil {
		return nil, err
	}
	return s.Client()
}

// emit prints v as indented JSON.
func emit(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints aligned columns.
func table(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// fields prints "name  value" lines, aligned, skipping empty values.
func fields(w io.Writer, kv [][2]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range kv {
		if p[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", p[0], p[1])
		}
	}
	tw.Flush()
}

// localTime shows an RFC 3339 time of the API in the local zone.
func localTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

// isTerminal reports whether w is a terminal, and its width.
func isTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return true, width
}

// keyFlags is how a command gets the CSR: a CSR file, a key file to make
// one with, or a new key of --key-type written into the output folder.
type keyFlags struct {
	csrFile, keyFile, keyType string
	newKey                    bool // --new-key, where a key is optional (reissue, renew)
}

// rekeying says whether a command whose key is optional (reissue, renew)
// was asked for one: --new-key, --csr or --key.
func (k *keyFlags) rekeying() (bool, error) {
	given := k.csrFile != "" || k.keyFile != ""
	if k.newKey && given {
		return false, usageError{fmt.Errorf("--new-key makes a key: not with --csr or --key")}
	}
	return k.newKey || given, nil
}

func (k *keyFlags) register(cmd *cobra.Command, defaultType string) {
	f := cmd.Flags()
	f.StringVar(&k.csrFile, "csr", "", "PEM CSR file to order with (its key stays yours)")
	f.StringVar(&k.keyFile, "key", "", "PEM private key file to make the CSR with")
	f.StringVar(&k.keyType, "key-type", defaultType, "type of the new key when neither --csr nor --key is given: "+strings.Join(keygen.Types, ", "))
}

// csr returns the CSR for names; newKey is the path of a key it made
// (written 0600 into dir), "" otherwise.
func (k *keyFlags) csr(cn string, names []string, dir string) (csr, newKey string, err error) {
	switch {
	case k.csrFile != "" && k.keyFile != "":
		return "", "", usageError{fmt.Errorf("--csr and --key: give one")}
	case k.csrFile != "":
		b, err := os.ReadFile(k.csrFile)
		if err != nil {
			return "", "", usageError{err}
		}
		return string(b), "", nil
	case k.keyFile != "":
		key, err := keygen.Read(k.keyFile)
		if err != nil {
			return "", "", usageError{err}
		}
		csr, err := keygen.CSR(key, cn, names)
		return csr, "", err
	}
	key, err := keygen.New(k.keyType)
	if err != nil {
		return "", "", usageError{err}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	path := filepath.Join(dir, "key.pem")
	if err := keygen.Write(path, key); err != nil {
		return "", "", usageError{err}
	}
	csr, err = keygen.CSR(key, cn, names)
	return csr, path, err
}

// waitFlags are --wait, --timeout and --out.
type waitFlags struct {
	wait    bool
	timeout time.Duration
	out     string
}

func (w *waitFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&w.wait, "wait", false, "wait until the certificate is issued, showing what the order waits for, then write the files")
	f.DurationVar(&w.timeout, "timeout", 0, "with --wait, give up after this long (exit code 6; the order goes on)")
	f.StringVar(&w.out, "out", "", "folder for key.pem, cert.pem, chain.pem, fullchain.pem and cert.p7b (default: a folder named after the common name)")
}

// folder is the output folder for an order about name.
func (w *waitFlags) folder(name string) string {
	if w.out != "" {
		return w.out
	}
	return strings.ReplaceAll(name, "*", "wildcard")
}

// result is what an ordering command reports, as text or JSON.
type result struct {
	OrderID   string            `json:"order_id,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Status    string            `json:"status"`
	Serial    string            `json:"serial,omitempty"`
	KeyFile   string            `json:"key_file,omitempty"`
	Files     map[string]string `json:"files,omitempty"`
	Waiting   []string          `json:"waiting_for,omitempty"`
}

// placed finishes an ordering command once the server answered it: the
// error, or the order's report (finish).
func placed(cmd *cobra.Command, c *client.Client, cn *conn, w *waitFlags, keyPath, id string, err error) error {
	if err != nil {
		return err
	}
	return finish(cmd.Context(), cmd, c, cn, w, result{OrderID: id, KeyFile: keyPath})
}

// finish reports a placed order: waits for it with --wait (progress on
// stdout, or on stderr with --json), writes the files once it is issued
// (at once if it already is), and prints the result.
func finish(ctx context.Context, cmd *cobra.Command, c *client.Client, cn *conn, w *waitFlags, r result, opts ...client.WaitOption) error {
	out := cmd.OutOrStdout()
	progressTo := out
	if cn.json {
		progressTo = cmd.ErrOrStderr()
	}
	o, err := c.Order(ctx, r.OrderID)
	if err != nil {
		return err
	}
	dir := w.folder(o.CertificateDetails.CommonName)
	var cert *client.Certificate
	if w.wait {
		if w.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, w.timeout)
			defer cancel()
		}
		tty, width := isTerminal(progressTo)
		p := progress.New(progressTo, tty, width)
		opts = append(opts, client.WithProgress(func(o *client.Order) { p.Update(progress.Describe(o)) }), client.WithPollInterval(time.Second, 15*time.Second))
		cert, err = c.WaitForCertificate(ctx, r.OrderID, opts...)
		if err != nil {
			p.Done("")
			return stoppedWaiting(err, w.timeout, "order "+r.OrderID, "certd order show "+r.OrderID)
		}
		p.Done("") // the result follows
	} else if o.CertificateDetails.Status == "issued" && o.PendingReissue == nil {
		if cert, err = c.Certificate(ctx, r.OrderID); err != nil {
			return err
		}
	}
	if cert != nil {
		if r.Files, err = writeCertificate(dir, cert); err != nil {
			return err
		}
		r.Status, r.Serial = "issued", cert.Serial
	} else {
		r.Status = o.CertificateDetails.Status
		r.Waiting = progress.Describe(o)
	}
	if cn.json {
		return emit(out, r)
	}
	fmt.Fprintf(out, "order %s: %s\n", r.OrderID, r.Status)
	if r.KeyFile != "" {
		fmt.Fprintf(out, "key:  %s (mode 0600; keep it secret)\n", r.KeyFile)
	}
	if cert != nil {
		printFiles(out, cert.Serial, r.Files)
		return nil
	}
	fmt.Fprintln(out, "waiting for:")
	for _, l := range r.Waiting {
		fmt.Fprintln(out, "  "+l)
	}
	fmt.Fprintf(out, "then: certd order fetch %s --out %s (or wait with certd order show %s)\n", r.OrderID, dir, r.OrderID)
	return nil
}

func printFiles(out io.Writer, serial string, files map[string]string) {
	fmt.Fprintf(out, "serial: %s\n", serial)
	for _, k := range []string{"cert", "chain", "fullchain", "pkcs7"} {
		fmt.Fprintf(out, "%-10s %s\n", k+":", files[k])
	}
}

// writeCertificate writes the certificate files into dir, each replaced
// atomically (a reader never sees half a file).
func writeCertificate(dir string, cert *client.Certificate) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := map[string]string{
		"cert":      filepath.Join(dir, "cert.pem"),
		"chain":     filepath.Join(dir, "chain.pem"),
		"fullchain": filepath.Join(dir, "fullchain.pem"),
		"pkcs7":     filepath.Join(dir, "cert.p7b"),
	}
	contents := map[string]string{
		"cert":      cert.Certs.Certificate,
		"chain":     cert.Certs.Intermediate,
		"fullchain": cert.Certs.Certificate + cert.Certs.Intermediate,
		"pkcs7":     cert.Certs.PKCS7,
	}
	for k, path := range files {
		if err := writeAtomic(path, []byte(contents[k]), 0o644); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// stoppedWaiting explains why a wait ended early, keeping the error's
// kind (for the exit code).
func stoppedWaiting(err error, timeout time.Duration, what, next string) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("gave up waiting after %s (--timeout); %s goes on: %s: %w", timeout, what, next, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("stopped waiting; %s goes on: %s: %w", what, next, err)
	}
	return err
}

// Polling of a request's decision: from one second, doubling up to 15.
const (
	pollStart = time.Second
	pollMax   = 15 * time.Second
)

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
