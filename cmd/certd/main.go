// Command certd is a self-hosted certificate authority that speaks the
// DigiCert REST API v1. This file only wires flags to the internal
// packages; see README.md for a walk-through.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/audit"
	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/pipeline"
	"github.com/certd/certd/internal/server"
	"github.com/certd/certd/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "certd:", err)
		os.Exit(exitCode(err))
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "certd",
		Short: "A self-hosted certificate authority with the DigiCert REST API v1",
		Long: `certd is a certificate authority with the DigiCert REST API v1, and its
client. Run the CA with "certd serve"; order and manage certificates from
a terminal with "certd csr", "certd order", "certd request" and "certd
domain" (settings: --url/--account/--api-key, CERTD_URL/CERTD_ACCOUNT_ID/
CERTD_API_KEY, or a profile in ~/.config/certd/config.toml).

Exit codes: 0 done; 1 failed (server error, file not written); 2 bad
usage or a missing setting; 3 the server refused the request (invalid
input, wrong state); 4 authentication failed or the key's role does not
allow it; 5 no such order, request or account, or no certificate to serve; 6
--timeout passed while waiting; 7 the server could not be reached
(network, TLS); 8 not ready yet (not issued, domains not validated);
130 interrupted.`,
		Example: `  certd serve
  certd order ssl --cn www.example.com --org-file org.toml --wait
  certd completion bash > /etc/bash_completion.d/certd`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServe(), newCSR(), newOrder(), newRequest(), newDomain(), newAccount(), newAPIKey(), newOrg(), newAudit(), newBackup(), newCA(), newInit())
	strictGroups(root)
	return root
}

func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// keyPassphrase reads the CA keys' passphrase from a file or the
// CERTD_KEY_PASSPHRASE environment variable: never from a flag, which
// other users of the machine could read in the process list.
func keyPassphrase(file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--key-passphrase-file: %w", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	return []byte(os.Getenv("CERTD_KEY_PASSPHRASE")), nil
}

// secret reads a secret from a file, else from an environment variable.
func secret(file, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return os.Getenv(env), nil
}

func newServe() *cobra.Command {
	var cfg server.Config
	var passFile, pinFile, logFormat, configFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the certificate authority and its API",
		Long: `Run the certificate authority and its API.

On first start certd creates, in the data folder, a SQLite database, a root
and an issuing intermediate CA, a TLS certificate for the listener, and a
bootstrap account whose id and API key it prints once and saves to
bootstrap-account.json. Later starts reuse all of it.`,
		Example: `  certd serve
  certd serve --sandbox --http --listen 127.0.0.1:8080
  certd serve --data /var/lib/certd --public-url https://ca.example.internal`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applySettings(cmd, configFile); err != nil {
				return err
			}
			cfg.Log = logger(cmd.ErrOrStderr())
			switch logFormat {
			case "text":
			case "json":
				cfg.Log = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			default:
				return fmt.Errorf("--log-format %q: use text or json", logFormat)
			}
			cfg.Out = cmd.OutOrStdout()
			tuneGC()
			pass, err := keyPassphrase(passFile)
			if err != nil {
				return err
			}
			cfg.KeyPassphrase = pass
			if cfg.PKCS11PIN, err = secret(pinFile, "CERTD_PKCS11_PIN"); err != nil {
				return err
			}
			srv, err := server.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return srv.Serve(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", server.DefaultDataDir, "data folder (created if missing)")
	f.StringVar(&configFile, "config", os.Getenv("CERTD_CONFIG"), "TOML file of settings, keyed by flag name (or CERTD_CONFIG); flags, then CERTD_* variables, then the file")
	f.StringVar(&logFormat, "log-format", "text", "log format on standard error: text or json")
	f.StringVar(&cfg.Database, "db", "", "PostgreSQL URL (postgres://user@host/db) to keep the data in instead of the data folder's SQLite file")
	f.StringVar(&cfg.NodeID, "node-id", "", "this node's name in logs and metrics (default: the host name)")
	f.StringVar(&cfg.PprofListen, "pprof-listen", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (measuring only; keep it on loopback)")
	f.DurationVar(&cfg.JobTimeout, "job-timeout", pipeline.DefaultJobTimeout, "longest one background check of an order may run; a node takes over the checks of a dead one after 2.5 times this")
	f.IntVar(&cfg.Workers, "workers", pipeline.DefaultWorkers, "orders this node checks (validation, CAA, issuance) at once")
	f.IntVar(&cfg.RequestsPerHour, "requests-per-hour", 0, "each account's request budget an hour, unless the account has its own (0: 1000, or none with --sandbox; -1: none)")
	f.IntVar(&cfg.AuthFailuresPerHour, "auth-failures-per-hour", 0, "failed authentications a source address may make an hour before it is refused (0: 20; always on)")
	f.DurationVar(&cfg.CRLLifetime, "crl-next-update", 7*24*time.Hour, "how long a CRL is valid (its nextUpdate); at most 240h")
	f.StringVar(&cfg.PKCS11Module, "pkcs11-module", "", "PKCS#11 module (.so) of the HSM that holds the CA keys (default: key files)")
	f.StringVar(&cfg.PKCS11Token, "pkcs11-token", "", "label of the HSM token that holds the CA keys")
	f.StringVar(&pinFile, "pkcs11-pin-file", "", "file holding the token's user PIN (or set CERTD_PKCS11_PIN)")
	f.StringVar(&passFile, "key-passphrase-file", "", "file holding the passphrase of the CA key files (or set CERTD_KEY_PASSPHRASE)")
	f.StringVar(&cfg.Listen, "listen", server.DefaultListenAddr, "address to listen on, HOST:PORT")
	f.BoolVar(&cfg.HTTP, "http", false, "serve plain HTTP instead of HTTPS (behind a TLS-terminating proxy, or for local scripts)")
	f.BoolVar(&cfg.Sandbox, "sandbox", false, "issue every valid order at once, without approval (tests and development only)")
	f.StringVar(&cfg.PublicURL, "public-url", "", "base URL clients reach the API at (default: the listen address)")
	f.StringVar(&cfg.PKIURL, "pki-url", "", "plain-HTTP base URL of the CA certificates and CRLs that certificates name (default: http:// on the listen address)")
	f.StringVar(&cfg.CAKeyType, "ca-key-type", "ecdsa", "key type of a new CA hierarchy: ecdsa (P-256), rsa (3072 bits) or rsa4096")
	f.IntVar(&cfg.MaxLifetimeDays, "max-cert-days", 0, "cap certificate lifetime below the CA/Browser Forum maximum (0: the maximum in force)")
	f.BoolVar(&cfg.AllowPrivateFetch, "allow-private-fetch", false, "let Wi-Fi logo fetches reach loopback, private and link-local addresses")
	f.StringVar(&cfg.DNSResolver, "dns-resolver", "", "recursive DNS resolver HOST:PORT for domain validation and CAA (default: /etc/resolv.conf)")
	f.StringSliceVar(&cfg.CAAIdentities, "caa-identity", nil, "issuer domain name CAA records must name to allow this CA (repeatable; default: the public URL's host)")
	f.IntVar(&cfg.DCVHTTPPort, "dcv-http-port", 80, "port the http-token validation method connects to")
	f.StringVar(&cfg.SMTPRelay, "smtp-relay", "", "SMTP relay HOST:PORT for the email validation method (without it the method is refused)")
	f.StringVar(&cfg.SMTPFrom, "smtp-from", "", "sender of validation mail (default certd@ the CAA identity)")
	f.IntVar(&cfg.DCVReuseDays, "dcv-reuse-days", 0, "lower the reuse period of domain validations below the BRs' (0: the period in force)")
	f.StringVar(&cfg.NameProfile, "name-profile", "public", "names certificates may carry: public (registered domains only) or private (also internal names and IP addresses)")
	f.StringVar(&cfg.KeyBlocklist, "key-blocklist", "", "file of SHA-256 hashes (hex) of compromised keys' SubjectPublicKeyInfo, one per line")
	return cmd
}

func newAccount() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Manage accounts"}
	var dataDir, name string
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account and print its id and API key",
		Long: `Create an account with an admin API key and print both. The key is shown
only now; certd keeps only its hash. Works while the server runs on the
same data folder.`,
		Example: `  certd account create --name ops
  certd account create --json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			creds, err := d.Accounts.Create(cmd.Context(), name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(creds)
			}
			fmt.Fprintf(out, "account id: %s\napi key:    %s\n", creds.AccountID, creds.APIKey)
			return nil
		},
	}
	create.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	create.Flags().StringVar(&name, "name", "", "account name")
	create.Flags().BoolVar(&asJSON, "json", false, `print {"account_id":...,"api_key":...}`)
	cmd.AddCommand(create, newAccountLimit())
	return cmd
}

// newAccountLimit is "certd account limit": an account's own request
// budget, which overrides the server's --requests-per-hour.
func newAccountLimit() *cobra.Command {
	var dataDir, perHour string
	cmd := &cobra.Command{
		Use:   "limit ACCOUNT_ID",
		Short: "Set an account's request budget (requests an hour)",
		Long: `Set how many API requests an account may make an hour, overriding the
server's --requests-per-hour: a number, "default" (the server's) or
"unlimited". Running servers apply it within 30 seconds. Over the budget
the API answers 429 rate_limit_exceeded with Retry-After.`,
		Example: `  certd account limit 000001 --requests-per-hour 5000
  certd account limit 2 --requests-per-hour unlimited`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, ok := account.ParseID(strings.TrimSpace(args[0]))
			if !ok {
				return usageError{fmt.Errorf("%q is not an account id", args[0])}
			}
			var n int
			said := perHour + " requests an hour"
			switch perHour {
			case "default":
				said = "the server's --requests-per-hour"
			case "unlimited":
				n, said = -1, "no request limit"
			default:
				v, err := strconv.Atoi(perHour)
				if err != nil || v < 1 {
					return usageError{fmt.Errorf("--requests-per-hour %q: use a positive number, default or unlimited", perHour)}
				}
				n = v
			}
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := d.DB.SetRequestsPerHour(cmd.Context(), id, n); errors.Is(err, store.ErrNotFound) {
				return notFound{"no account " + account.FormatID(id)}
			} else if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "account %s: %s\n", account.FormatID(id), said)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	cmd.Flags().StringVar(&perHour, "requests-per-hour", "", "a number, default or unlimited")
	_ = cmd.MarkFlagRequired("requests-per-hour")
	return cmd
}

func newOrder() *cobra.Command {
	cmd := &cobra.Command{Use: "order", Short: "Order certificates and manage orders (and operator actions: approve, provision)"}
	addOrderClient(cmd)
	var dataDir string
	approve := &cobra.Command{
		Use:   "approve ORDER_ID",
		Short: "Approve an order's pending issuance or reissue, and issue it",
		Example: `  certd order approve 00000001
  certd order approve 1 --data /var/lib/certd`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, ok := account.ParseID(strings.TrimSpace(args[0]))
			if !ok {
				return usageError{fmt.Errorf("%q is not an order id", args[0])}
			}
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			o, err := d.Orders.Approve(cmd.Context(), id)
			if errors.Is(err, order.ErrNothingToApprove) {
				return fmt.Errorf("order %08d: %w", id, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "order %08d issued: serial %s\n", o.ID, o.CertSerial)
			return nil
		},
	}
	approve.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	var csrFile string
	provision := &cobra.Command{
		Use:   "provision ORDER_ID --csr FILE",
		Short: "Provision a shipped-token code signing order with the token's key, and issue it",
		Long: `For a code signing order with cs_provisioning_method ship_token: record the
key generated on the hardware token (given as a CSR made with it) and issue
the certificate.`,
		Example: `  certd order provision 00000042 --csr token.csr`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, ok := account.ParseID(strings.TrimSpace(args[0]))
			if !ok {
				return usageError{fmt.Errorf("%q is not an order id", args[0])}
			}
			csr, err := os.ReadFile(csrFile)
			if err != nil {
				return err
			}
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			o, err := d.Orders.Provision(cmd.Context(), id, string(csr))
			if err != nil {
				return fmt.Errorf("order %08d: %w", id, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "order %08d issued: serial %s\n", o.ID, o.CertSerial)
			return nil
		},
	}
	provision.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	provision.Flags().StringVar(&csrFile, "csr", "", "CSR made with the token's key (required)")
	_ = provision.MarkFlagRequired("csr")
	cmd.AddCommand(approve, provision)
	return cmd
}

// openData opens an existing data folder for a CLI command.
func openData(cmd *cobra.Command, dataDir string) (*server.Data, error) {
	pass, err := keyPassphrase(os.Getenv("CERTD_KEY_PASSPHRASE_FILE"))
	if err != nil {
		return nil, err
	}
	return server.OpenData(cmd.Context(), server.Config{DataDir: dataDir, Log: logger(io.Discard), Existing: true, KeyPassphrase: pass,
		PKCS11PIN: os.Getenv("CERTD_PKCS11_PIN"), Database: os.Getenv("CERTD_DB")})
}

// openForAccount opens an existing data folder for a command about one
// account (--account).
func openForAccount(cmd *cobra.Command, dataDir, accountID string) (*server.Data, int64, error) {
	id, ok := account.ParseID(accountID)
	if !ok {
		return nil, 0, usageError{fmt.Errorf("--account %q is not an account id", accountID)}
	}
	d, err := openData(cmd, dataDir)
	return d, id, err
}

func newAPIKey() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage an account's API keys and their roles"}
	var dataDir, accountID, role string
	var asJSON bool
	openAccount := func(cmd *cobra.Command) (*server.Data, int64, error) { return openForAccount(cmd, dataDir, accountID) }
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key with a role and print it",
		Long: `Create an API key for an account. Roles: admin (everything, including
approving and rejecting requests, revoking and managing keys), requester
(create and view orders and requests), viewer (read only). The key is shown
only now; certd keeps only its hash.`,
		Example: `  certd apikey create --account 000001 --role requester
  certd apikey create --account 1 --role viewer --json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, id, err := openAccount(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			k, err := d.Accounts.CreateKey(cmd.Context(), id, role)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(k)
			}
			fmt.Fprintf(out, "key id:  %s\nrole:    %s\napi key: %s\n", k.KeyID, k.Role, k.APIKey)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", account.RoleRequester, "role: admin, requester or viewer")
	create.Flags().BoolVar(&asJSON, "json", false, `print {"key_id":...,"account_id":...,"role":...,"api_key":...}`)
	revoke := &cobra.Command{
		Use:     "revoke KEY_ID",
		Short:   "Revoke an API key; requests with it fail from then on",
		Example: `  certd apikey revoke 3 --account 000001`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			keyID, ok := account.ParseID(args[0])
			if !ok {
				return fmt.Errorf("%q is not a key id", args[0])
			}
			d, id, err := openAccount(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := d.Accounts.RevokeKey(cmd.Context(), id, keyID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %d of account %s revoked\n", keyID, account.FormatID(id))
			return nil
		},
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List an account's API keys (ids, roles, state; never the keys)",
		Example: `  certd apikey list --account 000001`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, id, err := openAccount(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			keys, err := d.Accounts.Keys(cmd.Context(), id)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%-8s %-10s %-20s %s\n", "KEY ID", "ROLE", "CREATED", "STATE")
			for _, k := range keys {
				state := "active"
				if !k.RevokedAt.IsZero() {
					state = "revoked " + k.RevokedAt.Local().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(out, "%-8d %-10s %-20s %s\n", k.ID, k.Role, k.CreatedAt.Local().Format("2006-01-02 15:04"), state)
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{create, revoke, list} {
		c.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
		c.Flags().StringVar(&accountID, "account", "", "account id (required)")
		_ = c.MarkFlagRequired("account")
		cmd.AddCommand(c)
	}
	return cmd
}

func newDomain() *cobra.Command {
	cmd := &cobra.Command{Use: "domain", Short: "Domain validations of an account"}
	var dataDir, accountID string
	validate := &cobra.Command{
		Use:   "validate DOMAIN...",
		Short: "Pre-validate domains (and their subdomains) for an account",
		Long: `Record that the operator has validated control of each domain for the account,
as a private PKI trusts its own zones: the account's orders for the domain
and its subdomains then skip domain-control validation for the reuse period.
CAA is still checked.`,
		Example: `  certd domain validate --account 000001 corp.example.com`,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, id, err := openForAccount(cmd, dataDir, accountID)
			if err != nil {
				return err
			}
			defer d.Close()
			if _, err := d.Accounts.Get(cmd.Context(), id); err != nil {
				return fmt.Errorf("account %s: %w", account.FormatID(id), err)
			}
			for _, domain := range args {
				a, err := d.Orders.PreValidate(cmd.Context(), id, domain)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s validated for account %s until %s\n", a.Domain, account.FormatID(id), a.TokenExpiresAt.Local().Format("2006-01-02"))
			}
			return nil
		},
	}
	list := domainList(func(cmd *cobra.Command, accountID string) error {
		d, id, err := openForAccount(cmd, dataDir, accountID)
		if err != nil {
			return err
		}
		defer d.Close()
		ds, err := d.Orders.ValidatedDomains(cmd.Context(), id)
		if err != nil {
			return err
		}
		rows := make([][]string, len(ds))
		for i, v := range ds {
			rows[i] = []string{v.Domain, v.Method, v.ValidatedAt.Local().Format("2006-01-02 15:04 MST"), v.ReuseUntil.Local().Format("2006-01-02 15:04 MST")}
		}
		table(cmd.OutOrStdout(), []string{"DOMAIN", "METHOD", "VALIDATED", "REUSE UNTIL"}, rows)
		return nil
	})
	list.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder (operators: read it instead of asking the API)")
	validate.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	validate.Flags().StringVar(&accountID, "account", "", "account id (required)")
	_ = validate.MarkFlagRequired("account")
	cmd.AddCommand(validate, list, domainCheck())
	return cmd
}
func newOrg() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "org",
		Short: "Validate the organizations that certificates name",
		Long: `OV and EV certificates name an organization, which the CA must validate.
certd cannot check business registries, so an operator does: list the
organizations waiting, then validate or reject each. A validation is reused
for the account's orders naming the same organization for 398 days.`,
	}
	var dataDir, accountID, status, note string
	list := &cobra.Command{
		Use:   "list",
		Short: "List organizations (default: those awaiting validation)",
		Example: `  certd org list
  certd org list --status validated --account 000001`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var acct int64
			if accountID != "" {
				id, ok := account.ParseID(accountID)
				if !ok {
					return usageError{fmt.Errorf("--account %q is not an account id", accountID)}
				}
				acct = id
			}
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			if status == "all" {
				status = ""
			}
			orgs, err := d.Orders.Organizations(cmd.Context(), acct, status)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%-6s %-8s %-10s %-30s %s\n", "ID", "ACCOUNT", "STATUS", "NAME", "ADDRESS")
			for _, o := range orgs {
				c := o.Details
				fmt.Fprintf(out, "%-6d %-8s %-10s %-30s %s, %s, %s %s, %s\n", o.ID, account.FormatID(o.AccountID), o.Status, c.OrgName,
					c.OrgAddr1, c.OrgCity, c.OrgState, c.OrgZip, strings.ToUpper(c.OrgCountry))
			}
			return nil
		},
	}
	list.Flags().StringVar(&status, "status", "pending", "pending, validated, rejected or all")
	list.Flags().StringVar(&accountID, "account", "", "only this account's organizations")
	decide := func(validate bool) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			id, ok := account.ParseID(args[0])
			if !ok {
				return usageError{fmt.Errorf("%q is not an organization id", args[0])}
			}
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			queue, err := server.NewInserter(d)
			if err != nil {
				return err
			}
			d.Orders.SetQueue(queue)
			o, err := d.Orders.DecideOrganization(cmd.Context(), id, validate, note)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "organization %d (%s) %s\n", o.ID, o.Details.OrgName, o.Status)
			return nil
		}
	}
	validate := &cobra.Command{Use: "validate ORG_ID", Short: "Record that the organization is validated", Args: args(cobra.ExactArgs(1)),
		Example: "  certd org validate 3 --note \"registry entry 12345 checked\"", RunE: decide(true)}
	reject := &cobra.Command{Use: "reject ORG_ID --note WHY", Short: "Reject the organization; its orders wait for a corrected one", Args: args(cobra.ExactArgs(1)),
		Example: "  certd org reject 3 --note \"not in the registry\"", RunE: decide(false)}
	for _, c := range []*cobra.Command{validate, reject} {
		c.Flags().StringVar(&note, "note", "", "why (required to reject)")
	}
	for _, c := range []*cobra.Command{list, validate, reject} {
		c.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
		cmd.AddCommand(c)
	}
	return cmd
}

func newAudit() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The tamper-evident audit log"}
	var dataDir string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check that no event of the audit log was edited, removed or reordered",
		Long: `Check the audit chain's hashes event by event (the audit.log file of an
older installation first, then the events in the database, which go on
from it), and that it ends where the chain's head says the last append
left it (so a removed or edited tail is found too). Exits non-zero, naming
the first broken event, if the chain was altered.`,
		Example: `  certd audit verify --data /var/lib/certd`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			n, err := audit.Verify(cmd.Context(), d.DB, filepath.Join(dataDir, server.AuditFile))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d events\n", n)
			return nil
		},
	}
	verify.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	var after int64
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the audit chain's events, one JSON line each",
		Long: `Print the events of the audit chain in the database, one JSON line each,
as they are hashed: to keep a copy outside the CA (a log shipper, WORM
storage), which makes the chain's head harder to rewrite unnoticed.
--after prints only the events after that sequence number.`,
		Example: `  certd audit export --data /var/lib/certd > audit.jsonl
  certd audit export --after 41000 | ship-to-archive`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			w := bufio.NewWriter(cmd.OutOrStdout())
			for {
				lines, err := d.DB.AuditLines(cmd.Context(), after, 1000)
				if err != nil {
					return err
				}
				if len(lines) == 0 {
					return w.Flush()
				}
				for _, l := range lines {
					w.Write(l.Line)
					w.WriteByte('\n')
					after = l.Seq
				}
			}
		},
	}
	export.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	export.Flags().Int64Var(&after, "after", 0, "print the events after this sequence number")
	cmd.AddCommand(verify, export)
	return cmd
}

func newBackup() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "backup DIR",
		Short: "Copy the data folder consistently, while the server runs",
		Long: `Write a copy of the data folder to DIR (which must not exist): the SQLite
database, audit chain included, through SQLite's online backup (so that
"certd audit verify --data DIR" passes on the copy), an older folder's
audit.log, the CA files, the listener's certificate and the bootstrap
credentials, keeping their modes. To restore, stop certd and serve --data DIR. With
CERTD_DB (PostgreSQL) back the database up with pg_dump instead.`,
		Example: `  certd backup --data /var/lib/certd /backups/certd-$(date +%F)`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := openData(cmd, dataDir)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := d.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup written to %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	return cmd
}

func newCA() *cobra.Command {
	cmd := &cobra.Command{Use: "ca", Short: "Ceremonies of the CA hierarchy"}
	var dataDir, rootKey, profile string
	inter := &cobra.Command{
		Use:   "new-intermediate --root-key FILE",
		Short: "Make a new issuing intermediate with the offline root key",
		Long: `certd signs with its intermediates' keys only; the root key can be kept
offline (move ca/root.key out of the data folder). This ceremony brings the
root key in from FILE, makes a new intermediate for the profile (the old
one's files are kept, renamed .retired-<time>), signs a fresh root CRL, and
records the event in the audit log. Restart the server to use the new
intermediate.`,
		Example: `  certd ca new-intermediate --root-key /media/offline/root.key
  certd ca new-intermediate --root-key /media/offline/root.key --profile code`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := ca.ProfileTLS
			switch profile {
			case "tls":
			case "code":
				p = ca.ProfileCodeSigning
			default:
				return fmt.Errorf("--profile %q: use tls or code", profile)
			}
			pass, err := keyPassphrase(os.Getenv("CERTD_KEY_PASSPHRASE_FILE"))
			if err != nil {
				return err
			}
			c, err := server.NewIntermediate(cmd.Context(), server.Config{DataDir: dataDir, Log: logger(io.Discard), KeyPassphrase: pass,
				PKCS11PIN: os.Getenv("CERTD_PKCS11_PIN")}, rootKey, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new intermediate %q (serial %s), valid until %s; restart the server to use it\n",
				c.Subject.CommonName, order.SerialText(c.SerialNumber), c.NotAfter.Format("2006-01-02"))
			return nil
		},
	}
	inter.Flags().StringVar(&dataDir, "data", server.DefaultDataDir, "data folder")
	inter.Flags().StringVar(&rootKey, "root-key", "", "the offline root key file (required)")
	inter.Flags().StringVar(&profile, "profile", "tls", "tls or code")
	_ = inter.MarkFlagRequired("root-key")
	cmd.AddCommand(inter)
	return cmd
}

func newInit() *cobra.Command {
	var cfg server.Config
	var passFile, pinFile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the data folder and the CA hierarchy without serving",
		Long: `Create what certd serve creates on its first start (the database, the root and
intermediate CAs, keys in files or, with --pkcs11-module, inside the HSM
token) without starting the server: for a key ceremony before the first
start, or to move the root key offline at once.`,
		Example: `  certd init --data /var/lib/certd
  CERTD_PKCS11_PIN=1234 certd init --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token certd`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.KeyPassphrase, err = keyPassphrase(passFile); err != nil {
				return err
			}
			if cfg.PKCS11PIN, err = secret(pinFile, "CERTD_PKCS11_PIN"); err != nil {
				return err
			}
			cfg.Log = logger(io.Discard)
			cfg.Sandbox = true // no network checks are set up for a one-off
			// The intermediates name where the root and its CRL are
			// served: serve's defaults unless told otherwise.
			if cfg.PublicURL == "" {
				cfg.PublicURL = "https://" + server.DefaultListenAddr
			}
			if cfg.PKIURL == "" {
				cfg.PKIURL = "http://" + server.DefaultListenAddr
			}
			d, err := server.OpenData(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "CA ready in %s: root %q\n", cfg.DataDir, d.CA.Root().Subject.CommonName)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", server.DefaultDataDir, "data folder")
	f.StringVar(&cfg.CAKeyType, "ca-key-type", "ecdsa", "key type: ecdsa (P-256), rsa (3072 bits) or rsa4096")
	f.StringVar(&cfg.PublicURL, "public-url", "", "base URL of the API (default https://"+server.DefaultListenAddr+")")
	f.StringVar(&cfg.PKIURL, "pki-url", "", "plain-HTTP base URL the intermediates name for the root and its CRL (default http://"+server.DefaultListenAddr+")")
	f.StringVar(&cfg.PKCS11Module, "pkcs11-module", "", "PKCS#11 module of the HSM to create the keys in")
	f.StringVar(&cfg.PKCS11Token, "pkcs11-token", "", "label of the HSM token")
	f.StringVar(&pinFile, "pkcs11-pin-file", "", "file holding the token's user PIN (or set CERTD_PKCS11_PIN)")
	f.StringVar(&passFile, "key-passphrase-file", "", "file holding a passphrase to encrypt the key files (or set CERTD_KEY_PASSPHRASE)")
	return cmd
}

// tuneGC makes the server collect garbage less often than Go's default
// unless the operator set GOGC or GOMEMLIMIT: issuing allocates a lot of
// short-lived memory (zlint's parse of every certificate), and at the
// default GOGC=100 the collector took 10-20% of the CPU under load while
// the live heap stays near 20 MiB. GOGC=400 gave 7-14% more certificates
// per second for about 16 MiB more resident memory (docs/benchmarks.md);
// the soft limit keeps a heap that does grow from running away.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}
