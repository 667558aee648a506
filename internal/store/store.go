// Package store defines certd's storage: the records it keeps and the small
// interfaces that hold them. Implementations live in sub-packages (sqlite
// is the embedded default) and must all pass the contract tests in
// storetest.
//
// Semantics every implementation keeps:
//   - A lookup of a missing record returns an error matching ErrNotFound.
//   - A write that would break uniqueness (a serial, a key hash) returns an
//     error matching ErrConflict and changes nothing.
//   - UpdateOrder and CompleteIssuance are optimistic: they succeed only if
//     the stored order's Version equals the one passed in, then increment
//     it; otherwise they return ErrConflict and change nothing. Two
//     concurrent updates of one order therefore never both win.
//   - Every method is atomic: it happens entirely or not at all.
package store

import (
	"context"
	"errors"
	"time"
)

// The sentinel errors of the storage contract.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
)

// Account is a customer of the CA. IDs are positive integers shown to
// clients as zero-padded digit strings.
type Account struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	// RequestsPerHour is the account's request limit: 0 follows the
	// server's default, -1 is unlimited.
	RequestsPerHour int
}

// APIKey is one credential of an account. Only a hash of the key is kept.
type APIKey struct {
	ID        int64
	AccountID int64
	Hash      []byte
	Role      string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is active
}

// Order statuses, as the v1 API spells them.
const (
	StatusPendingIssuance = "pending issuance"
	StatusIssued          = "issued"
	StatusRevoked         = "revoked"
	// StatusExpired is an order whose checks did not pass within 30 days.
	StatusExpired = "expired"
)

// Contact holds the organization and contact fields of an order.
type Contact struct {
	OrgName      string `json:"org_name"`
	OrgUnit      string `json:"org_unit"`
	OrgAddr1     string `json:"org_addr1"`
	OrgAddr2     string `json:"org_addr2"`
	OrgCity      string `json:"org_city"`
	OrgState     string `json:"org_state"`
	OrgZip       string `json:"org_zip"`
	OrgCountry   string `json:"org_country"`
	Telephone    string `json:"telephone"`
	JobTitle     string `json:"org_contact_job_title"`
	FirstName    string `json:"org_contact_firstname"`
	LastName     string `json:"org_contact_lastname"`
	Email        string `json:"org_contact_email"`
	ContactPhone string `json:"org_contact_telephone"`
	ContactExt   string `json:"org_contact_telephone_ext"`
	// EV subject fields (certd extensions of the v1 API).
	RegistrationNumber  string `json:"org_registration_number,omitempty"`
	BusinessCategory    string `json:"org_business_category,omitempty"`
	JurisdictionCountry string `json:"org_jurisdiction_country,omitempty"`
}

// Reissue is a requested replacement of an order's certificate (a rekey
// and/or name change) awaiting issuance.
type Reissue struct {
	CommonName  string    `json:"common_name"`
	SANs        []string  `json:"sans"`
	CSR         string    `json:"csr"`
	ServerType  int       `json:"server_type"`
	Comments    string    `json:"comments"`
	RequestedAt time.Time `json:"requested_at"`
}

// ShipAddress is where a code signing token is shipped.
type ShipAddress struct {
	Name    string `json:"ship_name,omitempty"`
	Addr1   string `json:"ship_addr1,omitempty"`
	Addr2   string `json:"ship_addr2,omitempty"`
	City    string `json:"ship_city,omitempty"`
	State   string `json:"ship_state,omitempty"`
	Zip     string `json:"ship_zip,omitempty"`
	Country string `json:"ship_country,omitempty"`
}

// CodeSigning holds what a code signing order adds.
type CodeSigning struct {
	Platform           int         `json:"platform"`
	ProvisioningMethod string      `json:"cs_provisioning_method,omitempty"`
	ShipMethod         string      `json:"cs_ship_method,omitempty"`
	Ship               ShipAddress `json:"ship"`
}

// Logo is an image a Wi-Fi certificate embeds by reference: its URL, and
// the media type and SHA-256 of the bytes fetched when the order was made.
type Logo struct {
	Language  string `json:"language,omitempty"`
	URL       string `json:"url"`
	MediaType string `json:"media_type"`
	SHA256    []byte `json:"sha256"`
	Size      int    `json:"size"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

// FriendlyName is a Wi-Fi operator's name in one language (ISO 639-2).
type FriendlyName struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// WiFi holds what a Wi-Fi (Passpoint) order adds.
type WiFi struct {
	DefaultLogo     Logo           `json:"default_logo"`
	AdditionalLogos []Logo         `json:"additional_logos,omitempty"`
	FriendlyNames   []FriendlyName `json:"friendly_names"`
}

// Extra holds product-specific order details.
type Extra struct {
	CodeSigning *CodeSigning `json:"code_signing,omitempty"`
	WiFi        *WiFi        `json:"wifi,omitempty"`
}

// Order is a certificate order.
type Order struct {
	ID            int64
	AccountID     int64
	Product       string
	Status        string
	ValidityYears int
	CommonName    string
	SANs          []string // every name of the certificate, common name first
	ServerType    int
	SignatureHash string
	EV            bool
	CSR           string // PEM
	Contact       Contact
	SiteSealToken string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ValidFrom     time.Time // the term starts at first issuance; zero before
	ValidTill     time.Time
	CertSerial    string // current certificate; empty before issuance
	Pending       *Reissue
	// RenewedOrderID is the order this one renews; RenewalOrderID the
	// order that renewed this one. Zero when there is none.
	RenewedOrderID int64
	RenewalOrderID int64
	BusinessUnit   string
	Extra          Extra
	// The current certificate's validity, for the inventory's filters.
	CertNotBefore time.Time
	CertNotAfter  time.Time
	// DCVMethod is how the order's domains are validated; Holds maps a
	// name to why issuance waits for it beyond domain control (CAA).
	DCVMethod string
	Holds     map[string]string
	// OrgID is the organization the order's subject names, which must be
	// validated before issuance; zero when none is needed (sandbox).
	OrgID   int64
	Version int64
}

// Names returns the order's current names (common name first); these are
// what the inventory's name filter matches.
func (o *Order) Names() []string { return o.SANs }

// Certificate states: a serial is reserved (and the lint certificate kept)
// before the CA signs, so that every certificate that may exist is on
// record; it is issued once the signed certificate is stored.
const (
	CertReserved = "reserved"
	CertIssued   = "issued"
)

// AuditEvent is an event for the audit chain; the store seals it onto
// the chain (sequence number, the previous line's hash) in the
// transaction that writes it.
type AuditEvent struct {
	Time time.Time
	Type string
	Data map[string]any
}

// AuditLine is one sealed event of the chain: its line as the audit
// package made it, and that line's hash.
type AuditLine struct {
	Seq  int64
	Line []byte
	Hash string
}

// Audit keeps the audit chain. Appends from every process and node are
// ordered into one chain: each takes the chain's head in its transaction.
type Audit interface {
	// AppendAudit seals events onto the chain, durably, in one
	// transaction.
	AppendAudit(ctx context.Context, events ...AuditEvent) error
	// AuditLines returns up to limit lines after sequence number after,
	// in order.
	AuditLines(ctx context.Context, after int64, limit int) ([]AuditLine, error)
	// AuditHead is the last line's sequence number and hash (0, "" for an
	// empty chain), as the last append left them.
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

// Certificate is a record of a serial and what was signed under it.
type Certificate struct {
	Serial    string // upper-case hex of the serial's bytes (order.SerialText)
	OrderID   int64  // zero for certificates of certd's own (its TLS cert)
	Status    string
	LintDER   []byte
	DER       []byte // empty while reserved
	NotBefore time.Time
	NotAfter  time.Time
	CreatedAt time.Time
	IssuedAt  time.Time
	// Revocation; RevokedAt is zero while the certificate is not revoked.
	RevokedAt          time.Time
	RevocationReason   int
	RevocationComments string
	// Issuer names the CA that signed it ("intermediate",
	// "codesign-intermediate"), whose CRL lists it once revoked.
	Issuer string
	// LintWarnings are the lints that warned when it was signed.
	LintWarnings []string
}

// CRL is an issuing CA's latest certificate revocation list.
type CRL struct {
	Issuer     string
	Number     int64
	DER        []byte
	ThisUpdate time.Time
	NextUpdate time.Time
}

// CRLs keeps the latest CRL of each issuing CA.
type CRLs interface {
	// RevokedCertificates returns the issuer's revoked certificates that
	// have not expired at now.
	RevokedCertificates(ctx context.Context, issuer string, now time.Time) ([]Certificate, error)
	// PublishCRL allocates the issuer's next CRL number, has sign make
	// the CRL with it, and stores the result, in one transaction, so
	// numbers never repeat even with several nodes.
	PublishCRL(ctx context.Context, issuer string, sign func(number int64) (CRL, error)) (CRL, error)
	// LatestCRL returns the issuer's latest CRL, or ErrNotFound.
	LatestCRL(ctx context.Context, issuer string) (CRL, error)
}

// Authorization statuses.
const (
	AuthzPending = "pending"
	AuthzValid   = "valid"
	AuthzInvalid = "invalid"
)

// Authorization is the validation of one domain for one account by one
// method, with the random value the subscriber publishes.
type Authorization struct {
	ID             int64
	AccountID      int64
	Domain         string // without a wildcard label
	Method         string
	Token          string
	Status         string
	LastError      string
	CreatedAt      time.Time
	TokenExpiresAt time.Time
	ValidatedAt    time.Time
	CheckedAt      time.Time
	Version        int64
}

// Authorizations keeps domain-control validations.
type Authorizations interface {
	// CreateAuthorization stores a, setting its ID and Version (1).
	CreateAuthorization(ctx context.Context, a *Authorization) error
	// UpdateAuthorization writes a if its Version is current (ErrConflict
	// otherwise) and increments it.
	UpdateAuthorization(ctx context.Context, a *Authorization) error
	// Authorizations returns the account's authorizations for the given
	// domains, newest first; with no domains, all of the account's.
	Authorizations(ctx context.Context, accountID int64, domains []string) ([]Authorization, error)
	// AuthorizationByToken returns the authorization with the random
	// value, or ErrNotFound.
	AuthorizationByToken(ctx context.Context, token string) (Authorization, error)
}

// Organization statuses.
const (
	OrgPending   = "pending"
	OrgValidated = "validated"
	OrgRejected  = "rejected"
)

// Organization is an organization an account's certificates name, as the
// CA validated it (or not yet). Details holds the organization's fields.
type Organization struct {
	ID        int64
	AccountID int64
	MatchKey  string // orders with the same key are the same organization
	Details   Contact
	Status    string
	Note      string
	CreatedAt time.Time
	DecidedAt time.Time
	Version   int64
}

// Organizations keeps organizations.
type Organizations interface {
	// CreateOrganization stores o, setting its ID and Version (1).
	CreateOrganization(ctx context.Context, o *Organization) error
	GetOrganization(ctx context.Context, id int64) (Organization, error)
	// FindOrganization returns the newest of the account's organizations
	// with the match key, or ErrNotFound.
	FindOrganization(ctx context.Context, accountID int64, matchKey string) (Organization, error)
	// ListOrganizations returns organizations in a status ("" for all),
	// of one account or, with accountID zero, of every account.
	ListOrganizations(ctx context.Context, accountID int64, status string) ([]Organization, error)
	// UpdateOrganization writes o optimistically, like UpdateOrder.
	UpdateOrganization(ctx context.Context, o *Organization) error
}

// Request statuses.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
)

// Request is an enterprise certificate request awaiting an admin's
// decision. Params holds the submitted parameters, as the order service
// encoded them.
type Request struct {
	ID          int64
	AccountID   int64
	Status      string
	Product     string
	Params      []byte
	RequestedBy int64 // API key id
	CreatedAt   time.Time
	DecidedBy   int64 // API key id; zero while pending
	DecidedAt   time.Time
	Note        string
	OrderID     int64 // the order an approval created
	Version     int64
}

// ListFilter selects and pages a listing. Results are newest first;
// Before, when not zero, returns only records with smaller ids (the
// cursor of the previous page).
type ListFilter struct {
	AccountID   int64
	Status      string
	Name        string // an exact name among the order's names
	Serial      string // a serial of any of the order's certificates
	IssuedFrom  time.Time
	IssuedTo    time.Time
	ExpiresFrom time.Time
	ExpiresTo   time.Time
	Before      int64
	Limit       int
}

// Requests keeps enterprise requests.
type Requests interface {
	// CreateRequest stores r, setting its ID and Version (1).
	CreateRequest(ctx context.Context, r *Request) error
	GetRequest(ctx context.Context, id int64) (Request, error)
	// ListRequests honours AccountID, Status, Before and Limit.
	ListRequests(ctx context.Context, f ListFilter) ([]Request, error)
	// DecideRequest writes r (optimistically, like UpdateOrder). When o is
	// not nil it is created in the same transaction and r.OrderID set to
	// its id, so an approval makes exactly one order.
	DecideRequest(ctx context.Context, r *Request, o *Order) error
}

// Accounts keeps accounts and their API keys.
type Accounts interface {
	CreateAccount(ctx context.Context, name string, now time.Time) (Account, error)
	GetAccount(ctx context.Context, id int64) (Account, error)
	// CreateAPIKey stores k and returns it with its ID set.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// APIKeys returns the account's keys, active and revoked, oldest first.
	APIKeys(ctx context.Context, accountID int64) ([]APIKey, error)
	// RevokeAPIKey marks an active key revoked. A missing or already
	// revoked key is ErrNotFound.
	RevokeAPIKey(ctx context.Context, accountID, keyID int64, at time.Time) error
	// SetRequestsPerHour sets an account's request limit (see
	// Account.RequestsPerHour). A missing account is ErrNotFound.
	SetRequestsPerHour(ctx context.Context, accountID int64, perHour int) error
}

// Limits keeps the state of rate limits that every node shares: for
// each key, the theoretical arrival time (Unix nanoseconds) of the
// generic cell rate algorithm. A row past its expiry counts as absent.
type Limits interface {
	// LimitTAT returns the key's value, or -1 when it has none in force
	// at now.
	LimitTAT(ctx context.Context, key string, now time.Time) (int64, error)
	// SetLimitTAT sets the key's value if it has none in force at now,
	// and reports whether it did.
	SetLimitTAT(ctx context.Context, key string, tat int64, expires, now time.Time) (bool, error)
	// SwapLimitTAT sets the key's value to tat if it is old (and in
	// force at now), and reports whether it did.
	SwapLimitTAT(ctx context.Context, key string, old, tat int64, expires, now time.Time) (bool, error)
}

// IdempotencyRecord is a request sent with an Idempotency-Key, and once
// answered, its answer (Status 0 while the first request is in progress).
type IdempotencyRecord struct {
	AccountID   int64
	Key         string
	Fingerprint string
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Idempotency keeps Idempotency-Keys per account.
type Idempotency interface {
	// ClaimIdempotencyKey records r as in progress, unless the key holds
	// a record that is still in force: one that has not expired at
	// r.CreatedAt, and, while in progress, was created after staleBefore
	// (older ones are a crashed node's, and are taken over). It returns
	// whether r was recorded, and otherwise the record that holds the key.
	ClaimIdempotencyKey(ctx context.Context, r IdempotencyRecord, staleBefore time.Time) (bool, IdempotencyRecord, error)
	// FinishIdempotencyKey stores the answer of the request in progress
	// that holds the key with this fingerprint.
	FinishIdempotencyKey(ctx context.Context, r IdempotencyRecord) error
	// ReleaseIdempotencyKey forgets a request in progress that got no
	// answer worth replaying (a server error), so a retry runs anew.
	ReleaseIdempotencyKey(ctx context.Context, accountID int64, key, fingerprint string) error
	// SweepExpired deletes rate-limit rows and idempotency records
	// expired at now, and returns how many.
	SweepExpired(ctx context.Context, now time.Time) (int64, error)
}

// Orders keeps orders.
type Orders interface {
	// CreateOrder stores o, setting its ID and Version (1).
	CreateOrder(ctx context.Context, o *Order) error
	GetOrder(ctx context.Context, id int64) (Order, error)
	// UpdateOrder writes o if its Version is current and increments it.
	UpdateOrder(ctx context.Context, o *Order) error
	// CreateRenewal creates renewal and links old to it, in one
	// transaction; old is updated optimistically.
	CreateRenewal(ctx context.Context, renewal, old *Order) error
	// ListOrders returns the orders matching f, newest first.
	ListOrders(ctx context.Context, f ListFilter) ([]Order, error)
	// WaitingOrders returns the ids of orders whose domain validation
	// is outstanding (pending issuance, or a pending reissue), oldest
	// first.
	WaitingOrders(ctx context.Context) ([]int64, error)
	// PendingOrders returns the ids of every order awaiting a certificate
	// (pending issuance, or a pending reissue), oldest first.
	PendingOrders(ctx context.Context) ([]int64, error)
}

// Certificates keeps the record of every serial.
type Certificates interface {
	// ReserveCertificate records a serial and its lint certificate before
	// the real signature, and appends events to the audit chain, in one
	// transaction. A serial already on record is ErrConflict.
	ReserveCertificate(ctx context.Context, c Certificate, events ...AuditEvent) error
	// CompleteIssuance stores the signed certificate of a reserved serial
	// and, when o is not nil, updates the order (optimistically, as
	// UpdateOrder), and appends events to the audit chain, in one
	// transaction.
	CompleteIssuance(ctx context.Context, serial string, der []byte, issuedAt time.Time, o *Order, events ...AuditEvent) error
	GetCertificate(ctx context.Context, serial string) (Certificate, error)
	// RevokeCertificate records the revocation of an issued certificate
	// and updates the order (optimistically) in one transaction. A
	// certificate that is not issued, or already revoked, is ErrConflict.
	RevokeCertificate(ctx context.Context, serial string, at time.Time, reason int, comments string, o *Order) error
}

// Settings keeps small named values that every process on the data must
// agree on (the public URL certificates name).
type Settings interface {
	// Setting returns the value of key, or ErrNotFound.
	Setting(ctx context.Context, key string) (string, error)
	// PutSetting sets key to value.
	PutSetting(ctx context.Context, key, value string) error
	// SettingOnce sets key to value unless it has a value, and returns
	// the value in force: of writers racing, the first wins for all.
	SettingOnce(ctx context.Context, key, value string) (string, error)
}

// Health reports on the store for readiness checks and metrics.
type Health interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// CountOrdersByStatus counts orders in each status.
	CountOrdersByStatus(ctx context.Context) (map[string]int64, error)
}

// Store is everything certd keeps.
type Store interface {
	Audit
	Accounts
	Limits
	Idempotency
	Orders
	Requests
	Authorizations
	Organizations
	CRLs
	Health
	Certificates
	Settings
	Close() error
}
