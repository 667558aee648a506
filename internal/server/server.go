// Package server assembles certd from its parts: it lays out the data
// folder (database, CA hierarchy, TLS certificate, bootstrap account),
// builds the services over them and serves the v1 API until its context
// ends, then shuts down gracefully.
package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/internal/account"
	v1 "github.com/certd/certd/internal/api/v1"
	"github.com/certd/certd/internal/audit"
	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/logo"
	"github.com/certd/certd/internal/metrics"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/pipeline"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/ratelimit"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/postgres"
	"github.com/certd/certd/internal/store/sqlite"
	"github.com/certd/certd/internal/validation"
	"github.com/certd/certd/internal/web"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Files and folders inside the data folder.
const (
	DatabaseFile  = "certd.db"
	CADir         = "ca"
	TLSDir        = "tls"
	BootstrapFile = "bootstrap-account.json"
	// AuditFile is where the audit chain's first events are in a data
	// folder older than the chain's move into the database (migration
	// 00005 continues the chain from the file's end).
	AuditFile         = "audit.log"
	DefaultDataDir    = "certd-data"
	DefaultListenAddr = "127.0.0.1:8443"

	settingPublicURL    = "public_url"
	settingPKIURL       = "pki_url"
	settingMaxDays      = "max_cert_days"
	settingNameProfile  = "name_profile"
	settingKeyBlocklist = "key_blocklist"
	settingPKCS11Module = "pkcs11_module"
	settingPKCS11Token  = "pkcs11_token"
	// SettingCARoot is the SHA-256 (hex) of the root certificate the
	// database's certificates chain to.
	SettingCARoot = "ca_root_sha256"
)

// Config is everything serve can be told. The zero value of each field is
// a safe default.
type Config struct {
	DataDir   string
	Listen    string
	HTTP      bool   // plain HTTP instead of HTTPS
	Sandbox   bool   // issue at once, without approval
	PublicURL string // base URL clients reach the API at
	// PKIURL is the plain-HTTP base URL of the CA certificates and CRLs
	// that certificates name; default: http:// on the listen address
	// (the listener answers plain HTTP for those paths beside TLS).
	PKIURL          string
	CAKeyType       string
	MaxLifetimeDays int
	ShutdownTimeout time.Duration
	// Slow clients: how long reading a request's headers, reading a whole
	// request, and an idle keep-alive connection may take.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	Log               *slog.Logger
	Now               func() time.Time
	// Out receives the start-up messages meant for the person who ran
	// the server (paths, bootstrap credentials).
	Out io.Writer
	// AllowPrivateFetch lets Wi-Fi logo fetches reach loopback, private
	// and link-local addresses.
	AllowPrivateFetch bool
	// DNSResolver is the recursive resolver (HOST:PORT) domain validation
	// and CAA use; default: the first nameserver of /etc/resolv.conf.
	DNSResolver string
	// CAAIdentities are the issuer domain names CAA records must name to
	// allow certd; default: the public URL's host.
	CAAIdentities []string
	// DCVHTTPPort is the port the http-token method connects to (80;
	// tests serve tokens elsewhere).
	DCVHTTPPort int
	// DCVReuseDays lowers the BRs' validation reuse period.
	DCVReuseDays int
	// SMTPRelay (HOST:PORT) carries the email validation method's mail;
	// without it that method is refused. SMTPFrom is the sender.
	SMTPRelay string
	SMTPFrom  string
	// NameProfile is "public" (default) or "private".
	NameProfile string
	// KeyBlocklist is a file of SHA-256 hashes of compromised keys' SPKI.
	KeyBlocklist string
	// PKCS11Module, PKCS11Token and PKCS11PIN put the CA keys in an HSM
	// token instead of files.
	PKCS11Module string
	PKCS11Token  string
	PKCS11PIN    string
	// CRLLifetime is the CRLs' nextUpdate after thisUpdate (default 7
	// days; at most 10, BRs 4.9.7).
	CRLLifetime time.Duration
	// Database is a PostgreSQL URL (postgres://...) to keep the data in
	// instead of the data folder's SQLite file; the folder still holds
	// the CA and the audit log.
	Database string
	// NodeID names this node in logs and metrics (default: the host name).
	NodeID string
	// PprofListen, when set, serves Go's profiler (net/http/pprof) on
	// this address, apart from the API: for measuring, on loopback only.
	PprofListen string
	// JobTimeout bounds one background check of an order (default
	// pipeline.DefaultJobTimeout); a check left running by a node that
	// died is taken over by another node after pipeline.RescueFactor
	// times this.
	JobTimeout time.Duration
	// Workers is how many orders this node checks at once (0:
	// pipeline.DefaultWorkers).
	Workers int
	// RequestsPerHour is each account's default request budget: 0 is
	// the mode's default (ratelimit.DefaultRequestsPerHour, or none in
	// sandbox mode), -1 none. An account's own setting overrides it.
	RequestsPerHour int
	// AuthFailuresPerHour is each source address's budget of failed
	// authentications (0: ratelimit.DefaultAuthFailuresPerHour); it is
	// on in every mode.
	AuthFailuresPerHour int
	// Registry receives the Prometheus metrics, served at /metrics; serve
	// makes one when it is nil.
	Registry *prometheus.Registry
	// KeyPassphrase encrypts new CA keys and decrypts encrypted ones
	// (from CERTD_KEY_PASSPHRASE or --key-passphrase-file, never a flag).
	KeyPassphrase []byte
	// Existing makes OpenData refuse a data folder that serve has not
	// set up, so that a mistyped --data in a CLI command does not
	// silently create a new CA.
	Existing bool
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Listen == "" {
		c.Listen = DefaultListenAddr
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.NodeID == "" {
		c.NodeID, _ = os.Hostname()
	}
}

// issuingLease is the lease of a check that issues an order, for a job
// timeout (0: the pipeline's default).
func issuingLease(jobTimeout time.Duration) time.Duration {
	if jobTimeout == 0 {
		jobTimeout = pipeline.DefaultJobTimeout
	}
	return jobTimeout + 10*time.Second
}

// Database is the store behind a Data: the embedded SQLite file by
// default, or PostgreSQL when Config.Database names one.
type Database interface {
	store.Store
	Close() error
}

// NewInserter returns a client that queues jobs for the server working
// d's database, for CLI commands whose decisions the server acts on.
func NewInserter(d *Data) (*pipeline.Inserter, error) {
	return pipeline.NewInserter(d.jobs)
}

// openDatabase opens the configured database and returns it with the job
// queue's view of it, so that jobs are queued in the same database and
// survive restarts. SQLite allows one writer, so its jobs go through the
// store's writer pool.
func openDatabase(ctx context.Context, cfg Config) (Database, pipeline.Database, error) {
	if cfg.Database == "" {
		db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, DatabaseFile))
		if err != nil {
			return nil, pipeline.Database{}, err
		}
		return db, pipeline.SQLite(db.Writer()), nil
	}
	if !strings.HasPrefix(cfg.Database, "postgres://") && !strings.HasPrefix(cfg.Database, "postgresql://") {
		return nil, pipeline.Database{}, fmt.Errorf("--db %q: want a postgres:// URL (leave it empty for the embedded SQLite file)", redactURL(cfg.Database))
	}
	db, err := postgres.Open(ctx, cfg.Database)
	if err != nil {
		return nil, pipeline.Database{}, fmt.Errorf("open PostgreSQL %s: %w", redactURL(cfg.Database), err)
	}
	return db, pipeline.PostgreSQL(db.Pool()), nil
}

// redactURL hides a database URL's password, which must not reach logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Data is an opened data folder: the database, the CA and the services
// over them. The CLI uses it directly while a server may be running.
type Data struct {
	Dir      string
	DB       Database
	CA       *ca.Authority
	Orders   *order.Service
	Accounts *account.Service
	Audit    *audit.Log
	Metrics  *metrics.Metrics
	hsm      *ca.PKCS11Keys
	jobs     pipeline.Database // the job queue's: DB
}

// Backup copies the data folder to dir, which must not exist yet: the
// SQLite database (with the audit chain in it) through SQLite's online
// backup, the audit.log of an installation older than the chain's move
// into the database, the CA files, the listener's certificate and the
// bootstrap credentials, with their modes. The server may be running.
// A PostgreSQL database is backed up with pg_dump instead.
func (d *Data) Backup(ctx context.Context, dir string) error {
	db, ok := d.DB.(*sqlite.DB)
	if !ok {
		return errors.New("the data is in PostgreSQL: back it up with pg_dump, and copy the data folder's files")
	}
	if err := os.Mkdir(dir, 0o700); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("backup folder %s exists; name a new one", dir)
	} else if err != nil {
		return err
	}
	if err := d.backup(ctx, db, dir); err != nil {
		// A half-written copy must not pass for a backup.
		return errors.Join(err, os.RemoveAll(dir))
	}
	return nil
}

func (d *Data) backup(ctx context.Context, db *sqlite.DB, dir string) error {
	if err := db.BackupTo(ctx, filepath.Join(dir, DatabaseFile)); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(d.Dir, AuditFile), filepath.Join(dir, AuditFile)); err != nil {
		return err
	}
	for _, sub := range []string{CADir, TLSDir} {
		entries, err := os.ReadDir(filepath.Join(d.Dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				if err := copyFile(filepath.Join(d.Dir, sub, e.Name()), filepath.Join(dir, sub, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return copyFile(filepath.Join(d.Dir, BootstrapFile), filepath.Join(dir, BootstrapFile))
}

// copyFile copies src to a new file dst with src's mode, synced; a
// missing src is skipped.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Close closes the database and logs out of the HSM.
func (d *Data) Close() error {
	err := d.DB.Close()
	if d.hsm != nil {
		err = errors.Join(err, d.hsm.Close())
	}
	return err
}

// OpenData opens (creating on first use) the data folder.
func OpenData(ctx context.Context, cfg Config) (*Data, error) {
	cfg.defaults()
	if cfg.CRLLifetime < 0 || cfg.CRLLifetime > 10*24*time.Hour {
		return nil, fmt.Errorf("--crl-next-update %v: must be at most 10 days (BRs 4.9.7)", cfg.CRLLifetime)
	}
	if cfg.RequestsPerHour < -1 {
		return nil, fmt.Errorf("--requests-per-hour %d: use a positive number, 0 for the default or -1 for none", cfg.RequestsPerHour)
	}
	if cfg.AuthFailuresPerHour < 0 {
		return nil, fmt.Errorf("--auth-failures-per-hour %d: use a positive number, or 0 for the default", cfg.AuthFailuresPerHour)
	}
	if cfg.JobTimeout != 0 && (cfg.JobTimeout < time.Second || cfg.JobTimeout > time.Hour) {
		return nil, fmt.Errorf("--job-timeout %v: must be between 1s and 1h", cfg.JobTimeout)
	}
	if cfg.Workers < 0 || cfg.Workers > pipeline.MaxWorkers {
		return nil, fmt.Errorf("--workers %d: must be between 1 and %d, or 0 for the default", cfg.Workers, pipeline.MaxWorkers)
	}
	if cfg.Existing {
		marker := filepath.Join(cfg.DataDir, DatabaseFile)
		if cfg.Database != "" {
			marker = filepath.Join(cfg.DataDir, CADir)
		}
		if _, err := os.Stat(marker); err != nil {
			return nil, fmt.Errorf("no certd data folder at %s (run certd serve --data %s first, or pass the right --data)", cfg.DataDir, cfg.DataDir)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	keyType, err := ca.ParseKeyType(cfg.CAKeyType)
	if err != nil {
		return nil, err
	}
	db, jobs, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := syncSettings(ctx, db, &cfg); err != nil {
		db.Close()
		return nil, err
	}
	var hsm *ca.PKCS11Keys
	var keys ca.KeyStore
	if cfg.PKCS11Module != "" {
		if hsm, err = ca.OpenPKCS11(cfg.PKCS11Module, cfg.PKCS11Token, cfg.PKCS11PIN); err != nil {
			db.Close()
			return nil, err
		}
		keys = hsm
	}
	closeAll := func() {
		db.Close()
		if hsm != nil {
			hsm.Close()
		}
	}
	// Nodes keep their own copy of the CA files (or share an HSM); the
	// database remembers which root its certificates chain to, so that a
	// node with a missing or different CA folder cannot start a second
	// hierarchy on the same database.
	rootSum, err := db.Setting(ctx, SettingCARoot)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		closeAll()
		return nil, err
	}
	if _, statErr := os.Stat(filepath.Join(cfg.DataDir, CADir, ca.RootCertFile)); rootSum != "" && errors.Is(statErr, fs.ErrNotExist) {
		closeAll()
		return nil, fmt.Errorf("the database belongs to a CA (root SHA-256 %s) but %s has no CA: copy the ca folder of a node that has it (keys stay mode 0600), then start again", rootSum, filepath.Join(cfg.DataDir, CADir))
	}
	authority, created, err := ca.Open(ca.Options{
		Keys:            keys,
		Dir:             filepath.Join(cfg.DataDir, CADir),
		KeyType:         keyType,
		PublicURL:       cfg.PublicURL,
		PKIURL:          cfg.PKIURL,
		Passphrase:      cfg.KeyPassphrase,
		MaxLifetimeDays: cfg.MaxLifetimeDays,
		Now:             cfg.Now(),
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	if created {
		cfg.Log.Info("created CA hierarchy", "root", authority.Root().Subject.CommonName, "intermediate", authority.Intermediate().Subject.CommonName)
	}
	sum := sha256.Sum256(authority.Root().Raw)
	local := hex.EncodeToString(sum[:])
	if rootSum == "" {
		// Of nodes starting together on an empty database, the first to
		// record its root wins; the others find they hold another CA.
		if rootSum, err = db.SettingOnce(ctx, SettingCARoot, local); err != nil {
			closeAll()
			return nil, err
		}
	}
	if rootSum != local {
		closeAll()
		return nil, fmt.Errorf("the CA in %s (root SHA-256 %s) is not the database's (root SHA-256 %s): this data folder belongs to another CA", filepath.Join(cfg.DataDir, CADir), local, rootSum)
	}
	orderRules, err := rules(cfg, authority)
	if err != nil {
		closeAll()
		return nil, err
	}
	var m *metrics.Metrics
	if cfg.Registry != nil {
		m = metrics.New(cfg.Registry, cfg.NodeID)
	}
	auditLog := audit.NewLog(db, cfg.Now)
	var checks *order.Checks
	if !cfg.Sandbox && !cfg.Existing {
		if checks, err = networkChecks(cfg); err != nil {
			db.Close()
			return nil, err
		}
	}
	accounts := account.New(db, cfg.Now)
	accounts.Audit = auditLog
	return &Data{
		Dir: cfg.DataDir,
		DB:  db,
		CA:  authority,
		Orders: order.New(order.Options{
			Store: db, CA: authority, Now: cfg.Now, Log: cfg.Log, AutoIssue: cfg.Sandbox,
			Logos:   logo.New(logo.Options{AllowPrivate: cfg.AllowPrivateFetch}),
			Rules:   orderRules,
			Checks:  checks,
			CrashAt: os.Getenv("CERTD_TEST_CRASH_AT"),
			// A check is cut off at the job timeout, so its lease on an
			// order it is issuing need last only a little longer (the
			// margin covers a check finishing its last statement).
			IssuingLease: issuingLease(cfg.JobTimeout),
			CRLLifetime:  cfg.CRLLifetime,
			Metrics:      m,
		}),
		Accounts: accounts,
		Audit:    auditLog,
		hsm:      hsm,
		Metrics:  m,
		jobs:     jobs,
	}, nil
}

// syncSettings records the server's issuance settings, or, for the CLI
// (Existing set), reads what the server recorded, so that certificates
// that `certd order approve` or `provision` issue, and the keys they
// accept, match the server's.
func syncSettings(ctx context.Context, db store.Settings, cfg *Config) error {
	settings := []struct {
		key string
		val *string
	}{
		{settingPublicURL, &cfg.PublicURL},
		{settingPKIURL, &cfg.PKIURL},
		{settingNameProfile, &cfg.NameProfile},
		{settingKeyBlocklist, &cfg.KeyBlocklist},
		{settingPKCS11Module, &cfg.PKCS11Module},
		{settingPKCS11Token, &cfg.PKCS11Token},
	}
	maxDays := strconv.Itoa(cfg.MaxLifetimeDays)
	settings = append(settings, struct {
		key string
		val *string
	}{settingMaxDays, &maxDays})
	if !cfg.Existing {
		for _, st := range settings {
			if err := db.PutSetting(ctx, st.key, *st.val); err != nil {
				return err
			}
		}
		return nil
	}
	for _, st := range settings {
		v, err := db.Setting(ctx, st.key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		*st.val = v
	}
	cfg.MaxLifetimeDays, _ = strconv.Atoi(maxDays)
	if cfg.PublicURL == "" {
		cfg.PublicURL = "https://" + DefaultListenAddr
	}
	return nil
}

// networkChecks configures domain validation and CAA.
func networkChecks(cfg Config) (*order.Checks, error) {
	resolver := cfg.DNSResolver
	if resolver == "" {
		resolver = "127.0.0.1:53"
		if conf, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil && len(conf.Servers) > 0 {
			resolver = net.JoinHostPort(conf.Servers[0], conf.Port)
		} else {
			cfg.Log.Warn("no nameserver in /etc/resolv.conf; domain validation asks 127.0.0.1:53 (set --dns-resolver)")
		}
	}
	identities := cfg.CAAIdentities
	if len(identities) == 0 {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("no CAA identity: set --caa-identity")
		}
		identities = []string{u.Hostname()}
	}
	r := validation.NewResolver(resolver, 5*time.Second)
	publicURL := cfg.PublicURL
	var mailer *validation.Mailer
	if cfg.SMTPRelay != "" {
		from := cfg.SMTPFrom
		if from == "" {
			from = "certd@" + identities[0]
		}
		mailer = &validation.Mailer{Relay: cfg.SMTPRelay, From: from}
	}
	return &order.Checks{
		Mail:         mailer,
		ConfirmURL:   func(token string) string { return publicURL + web.ConfirmPath + token },
		DNS:          r,
		HTTP:         &validation.HTTPChecker{Port: cfg.DCVHTTPPort, Timeout: 10 * time.Second, Resolver: r},
		CAA:          &validation.CAAChecker{Resolver: r, Identities: identities},
		AccountURI:   func(id int64) string { return publicURL + "/account/" + account.FormatID(id) },
		MaxReuseDays: cfg.DCVReuseDays,
	}, nil
}

// rules builds the key policy and name profile orders must pass: the
// configured profile and blocklist, and the CA's own keys.
func rules(cfg Config, authority *ca.Authority) (order.Rules, error) {
	profile, err := policy.ParseNameProfile(cfg.NameProfile)
	if err != nil {
		return order.Rules{}, err
	}
	r := order.Rules{Names: profile, Keys: policy.KeyPolicy{CAKeys: map[[32]byte]bool{}}}
	for _, pub := range authority.PublicKeys() {
		h, err := policy.SPKIHash(pub)
		if err != nil {
			return order.Rules{}, err
		}
		r.Keys.CAKeys[h] = true
	}
	if cfg.KeyBlocklist != "" {
		data, err := os.ReadFile(cfg.KeyBlocklist)
		if err != nil {
			return order.Rules{}, fmt.Errorf("--key-blocklist: %w", err)
		}
		if r.Keys.Blocked, err = policy.ParseBlocklist(data); err != nil {
			return order.Rules{}, fmt.Errorf("--key-blocklist %s: %w", cfg.KeyBlocklist, err)
		}
	}
	return r, nil
}

// Server is a running certd.
type Server struct {
	cfg      Config
	data     *Data
	ln       net.Listener
	http     *http.Server
	url      string
	pipeline *pipeline.Pipeline
}

// Open prepares a server: it binds the listener (so that port 0 resolves
// to a real port), opens the data folder, makes the bootstrap account and
// the TLS certificate when they are missing, and prints what the user
// needs to Config.Out.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	cfg.Log = cfg.Log.With("node", cfg.NodeID)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	scheme := "https"
	if cfg.HTTP {
		scheme = "http"
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	selfURL := scheme + "://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	if cfg.PublicURL == "" {
		cfg.PublicURL = selfURL
	}
	if cfg.PKIURL == "" {
		cfg.PKIURL = "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	}
	if _, err := url.Parse(cfg.PublicURL); err != nil {
		ln.Close()
		return nil, fmt.Errorf("--public-url: %w", err)
	}
	data, err := OpenData(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, data: data, ln: ln, url: selfURL}
	if !cfg.Sandbox {
		p, err := pipeline.New(ctx, pipeline.Options{
			Database: data.jobs, Validator: data.Orders, Log: cfg.Log, JobTimeout: cfg.JobTimeout, NodeID: cfg.NodeID, Workers: cfg.Workers,
		})
		if err != nil {
			data.Close()
			ln.Close()
			return nil, err
		}
		s.pipeline = p
		data.Orders.SetQueue(p)
	}
	if err := s.setup(ctx); err != nil {
		data.Close()
		ln.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) setup(ctx context.Context) error {
	out := s.cfg.Out
	if s.cfg.Sandbox {
		fmt.Fprintln(out, "certd: *** SANDBOX MODE: every valid order is issued at once, without validation or approval. For tests and development only. ***")
		s.cfg.Log.Warn("sandbox mode: orders are issued without validation or approval")
	}
	fmt.Fprintf(out, "certd: root certificate: %s\n", filepath.Join(s.cfg.DataDir, CADir, ca.RootCertFile))
	// The configuration in force, for the audit trail (no secrets in it).
	if err := s.data.Audit.Append(ctx, "start", map[string]any{
		"listen": s.ln.Addr().String(), "public_url": s.cfg.PublicURL, "pki_url": s.cfg.PKIURL, "sandbox": s.cfg.Sandbox,
		"http": s.cfg.HTTP, "name_profile": s.cfg.NameProfile, "key_blocklist": s.cfg.KeyBlocklist, "max_cert_days": s.cfg.MaxLifetimeDays,
		"dns_resolver": s.cfg.DNSResolver, "caa_identities": s.cfg.CAAIdentities, "smtp_relay": s.cfg.SMTPRelay,
	}); err != nil {
		return err
	}
	if err := s.bootstrap(ctx); err != nil {
		return err
	}
	if n, err := s.data.Orders.ResumeIssuance(ctx); err != nil {
		return fmt.Errorf("resume pending issuance: %w", err)
	} else if n > 0 {
		s.cfg.Log.Info("issued orders left pending by the last run", "orders", n)
	}
	perHour := s.cfg.RequestsPerHour
	switch {
	case perHour == 0 && !s.cfg.Sandbox:
		perHour = ratelimit.DefaultRequestsPerHour
	case perHour < 0:
		perHour = 0
	}
	handler := v1.New(v1.Options{
		Orders:   s.data.Orders,
		Accounts: s.data.Accounts,
		Log:      s.cfg.Log,
		Limits: ratelimit.New(ratelimit.Options{Store: s.data.DB, RequestsPerHour: perHour,
			AuthFailuresPerHour: s.cfg.AuthFailuresPerHour, Now: s.cfg.Now}),
		Idempotency: s.data.DB,
		CRL:         s.data.Orders.CRL,
		OCSP:        s.data.Orders.OCSP,
		Metrics:     s.data.Metrics,
		Files: map[string]v1.File{
			"/ca/intermediate.crt":          {ContentType: "application/pkix-cert", Body: s.data.CA.Intermediate().Raw},
			"/ca/" + ca.CodeSigningCertFile: {ContentType: "application/pkix-cert", Body: s.data.CA.IssuerOf(ca.ProfileCodeSigning).Raw},
			"/ca/root.crt":                  {ContentType: "application/pkix-cert", Body: s.data.CA.Root().Raw},
		},
	})
	mux := http.NewServeMux()
	mux.Handle(web.ConfirmPath, web.New(s.data.Orders, s.cfg.Log))
	mux.Handle("/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","node":` + strconv.Quote(s.cfg.NodeID) + `}`))
	})
	mux.HandleFunc("/readyz", s.ready)
	s.registerGauges()
	mux.Handle("/", handler)
	var root http.Handler = mux
	if !s.cfg.HTTP {
		root = plainOnlyPKI(mux)
	}
	s.http = &http.Server{
		Handler:           root,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.ReadTimeout + 30*time.Second,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
	}
	if !s.cfg.HTTP {
		cert, err := s.tlsCertificate(ctx)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	fmt.Fprintf(out, "certd: listening on %s\n", s.url)
	return nil
}

// bootstrap creates the first account once and saves its credentials.
func (s *Server) bootstrap(ctx context.Context) error {
	path := filepath.Join(s.cfg.DataDir, BootstrapFile)
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(s.cfg.Out, "certd: bootstrap account credentials: %s\n", path)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// Another node of a shared database made the accounts already.
	if _, err := s.data.Accounts.Get(ctx, 1); err == nil {
		fmt.Fprintln(s.cfg.Out, "certd: the database has accounts already (the bootstrap credentials are with the node that created them)")
		return nil
	}
	creds, err := s.data.Accounts.Create(ctx, "bootstrap")
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(s.cfg.Out, "certd: bootstrap account created (shown once, saved to %s):\ncertd:   account id: %s\ncertd:   api key:    %s\n", path, creds.AccountID, creds.APIKey)
	return nil
}

// tlsCertificate returns the listener's certificate, issuing a new one from
// the intermediate when there is none, when it expires within a third of
// its lifetime, or when the hierarchy changed.
func (s *Server) tlsCertificate(ctx context.Context) (tls.Certificate, error) {
	dir := filepath.Join(s.cfg.DataDir, TLSDir)
	certPath, keyPath := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		leaf := cert.Leaf
		now := s.cfg.Now()
		if leaf != nil && leaf.CheckSignatureFrom(s.data.CA.Intermediate()) == nil &&
			now.Add(leaf.NotAfter.Sub(leaf.NotBefore)/3).Before(leaf.NotAfter) {
			return cert, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := s.data.Orders.IssueSelf(ctx, ca.Request{
		Internal:    true, // localhost and loopback addresses: not a public certificate
		PublicKey:   key.Public(),
		CommonName:  "localhost",
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	})
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	chainPEM := ca.PEM(der) + s.data.CA.IssuerPEM(ca.ProfileTLS)
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(certPath, []byte(chainPEM), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair([]byte(chainPEM), keyPEM)
}

// URL is the base URL the server answers at.
func (s *Server) URL() string { return s.url }

// Data returns the server's data folder services.
func (s *Server) Data() *Data { return s.data }

// Serve answers requests until ctx ends, then stops accepting, lets
// in-flight requests finish (up to the shutdown timeout) and closes the
// database.
// sweepEvery is how often a node deletes expired rate-limit state and
// Idempotency-Key records (every node does; the deletes are idempotent).
const sweepEvery = 10 * time.Minute

func (s *Server) sweep(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.data.DB.SweepExpired(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
				s.cfg.Log.Error("sweep expired limits and idempotency keys", "err", err)
			} else if n > 0 {
				s.cfg.Log.Debug("swept expired limits and idempotency keys", "rows", n)
			}
		}
	}
}

func (s *Server) Serve(ctx context.Context) error {
	if s.pipeline != nil {
		// The queue's lifetime is not the signal context's: shutdown
		// stops it explicitly, after the HTTP server, letting checks in
		// progress finish.
		if err := s.pipeline.Start(context.WithoutCancel(ctx)); err != nil {
			return errors.Join(fmt.Errorf("start job queue: %w", err), s.data.Close())
		}
	}
	if s.cfg.PprofListen != "" {
		stop, err := servePprof(s.cfg.PprofListen, s.cfg.Log)
		if err != nil {
			return errors.Join(err, s.data.Close())
		}
		defer stop()
	}
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSweep()
	go s.sweep(sweepCtx)
	errc := make(chan error, 1)
	go func() {
		if s.http.TLSConfig != nil {
			errc <- s.http.Serve(newSniffListener(s.ln, s.http.TLSConfig))
		} else {
			errc <- s.http.Serve(s.ln)
		}
	}()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = err
	case <-ctx.Done():
		s.cfg.Log.Info("shutting down: finishing in-flight requests")
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		serveErr = s.http.Shutdown(sctx)
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && serveErr == nil {
			serveErr = e
		}
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if s.pipeline != nil {
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := s.pipeline.Stop(sctx); err != nil {
			serveErr = errors.Join(serveErr, fmt.Errorf("stop job queue: %w", err))
		}
	}
	return errors.Join(serveErr, s.data.Close())
}

// plainOnlyPKI lets plain-HTTP connections (beside TLS on the same port)
// reach only what relying parties fetch over HTTP: the CA certificates,
// the CRLs and the OCSP responder. Everything else, the API above all, needs TLS.
func plainOnlyPKI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if r.TLS == nil && !strings.HasPrefix(p, "/ca/") && !strings.HasPrefix(p, "/crl/") && p != "/ocsp" && !strings.HasPrefix(p, "/ocsp/") {
			w.Header().Set("Content-Type", v1.TypeErrorJSON)
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"errors":[{"code":"https_required","description":"This server answers its API over HTTPS only."}]}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// NewIntermediate is the ceremony command's work: with the data folder's
// recorded settings, it makes a new intermediate for the profile from the
// offline root key at rootKeyPath, and records it in the audit log.
func NewIntermediate(ctx context.Context, cfg Config, rootKeyPath string, p ca.Profile) (*x509.Certificate, error) {
	cfg.defaults()
	cfg.Existing = true
	d, err := OpenData(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if err := syncSettings(ctx, d.DB, &cfg); err != nil {
		return nil, err
	}
	opts := ca.Options{Dir: filepath.Join(cfg.DataDir, CADir), PublicURL: cfg.PublicURL, PKIURL: cfg.PKIURL,
		Now: cfg.Now(), Passphrase: cfg.KeyPassphrase}
	if d.hsm != nil {
		opts.Keys = d.hsm
	}
	inter, err := ca.NewIntermediate(opts, rootKeyPath, p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(inter.Raw)
	if err := d.Audit.Append(ctx, "ca.new_intermediate", map[string]any{"subject": inter.Subject.CommonName,
		"serial": order.SerialText(inter.SerialNumber), "cert_sha256": hex.EncodeToString(sum[:])}); err != nil {
		return inter, err
	}
	return inter, nil
}

// ready is /readyz: ready only when the database answers and the signing
// keys sign.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var problems []string
	if err := s.data.DB.Ping(ctx); err != nil {
		problems = append(problems, "database: "+err.Error())
	}
	if err := s.data.CA.CheckKeys(); err != nil {
		problems = append(problems, "signing keys: "+err.Error())
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		b, _ := json.Marshal(map[string]any{"status": "unavailable", "node": s.cfg.NodeID, "problems": problems})
		_, _ = w.Write(b)
		return
	}
	_, _ = w.Write([]byte(`{"status":"ready","node":` + strconv.Quote(s.cfg.NodeID) + `}`))
}

// registerGauges adds the gauges read from the database at each scrape:
// orders by status, and the orders waiting for validation (the queue's
// depth).
func (s *Server) registerGauges() {
	for _, st := range []string{store.StatusPendingIssuance, store.StatusIssued, store.StatusRevoked, store.StatusExpired} {
		st := st
		metrics.Gauge(prometheus.WrapRegistererWith(prometheus.Labels{"status": st}, s.cfg.Registry), s.cfg.NodeID,
			"certd_orders", "Orders by status.", func() float64 {
				counts, err := s.data.DB.CountOrdersByStatus(context.Background())
				if err != nil {
					return -1
				}
				return float64(counts[st])
			})
	}
	if db, ok := s.data.DB.(*sqlite.DB); ok {
		metrics.Counter(s.cfg.Registry, s.cfg.NodeID, "certd_sqlite_commits_total",
			"Write transactions committed to the SQLite file (each one fsync; concurrent writers share them).",
			func() float64 { return float64(db.Commits()) })
	}
	metrics.Gauge(s.cfg.Registry, s.cfg.NodeID, "certd_validation_queue_depth", "Orders waiting for domain or organization validation.", func() float64 {
		ids, err := s.data.DB.WaitingOrders(context.Background())
		if err != nil {
			return -1
		}
		return float64(len(ids))
	})
}

// servePprof serves the profiler's handlers on addr until stop is called.
// It also turns on the block and mutex profiles (off by default, as they
// cost a little on every contended lock and wait): one contention event
// in pprofMutexFraction, and blocking events sampled about once per
// pprofBlockRate of blocked time.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-listen: %w", err)
	}
	runtime.SetMutexProfileFraction(pprofMutexFraction)
	runtime.SetBlockProfileRate(int(pprofBlockRate))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Warn("profiler listening", "addr", ln.Addr().String())
	return func() {
		_ = srv.Close()
		runtime.SetMutexProfileFraction(0)
		runtime.SetBlockProfileRate(0)
	}, nil
}

// The sampling of the block and mutex profiles under --pprof-listen.
const (
	pprofMutexFraction = 10
	pprofBlockRate     = 10 * time.Microsecond
)
