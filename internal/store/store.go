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

// Order is an SSL certificate order.
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
	Version       int64
}

// Certificate states: a serial is reserved (and the lint certificate kept)
// before the CA signs, so that every certificate that may exist is on
// record; it is issued once the signed certificate is stored.
const (
	CertReserved = "reserved"
	CertIssued   = "issued"
)

// Certificate is a record of a serial and what was signed under it.
type Certificate struct {
	Serial    string // upper-case hex, no leading zeros
	OrderID   int64  // zero for certificates of certd's own (its TLS cert)
	Status    string
	LintDER   []byte
	DER       []byte // empty while reserved
	NotBefore time.Time
	NotAfter  time.Time
	CreatedAt time.Time
	IssuedAt  time.Time
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
}

// Orders keeps orders.
type Orders interface {
	// CreateOrder stores o, setting its ID and Version (1).
	CreateOrder(ctx context.Context, o *Order) error
	GetOrder(ctx context.Context, id int64) (Order, error)
	// UpdateOrder writes o if its Version is current and increments it.
	UpdateOrder(ctx context.Context, o *Order) error
}

// Certificates keeps the record of every serial.
type Certificates interface {
	// ReserveCertificate records a serial and its lint certificate before
	// the real signature. A serial already on record is ErrConflict.
	ReserveCertificate(ctx context.Context, c Certificate) error
	// CompleteIssuance stores the signed certificate of a reserved serial
	// and, when o is not nil, updates the order (optimistically, as
	// UpdateOrder) in the same transaction.
	CompleteIssuance(ctx context.Context, serial string, der []byte, issuedAt time.Time, o *Order) error
	GetCertificate(ctx context.Context, serial string) (Certificate, error)
}

// Settings keeps small named values that every process on the data must
// agree on (the public URL certificates name).
type Settings interface {
	// Setting returns the value of key, or ErrNotFound.
	Setting(ctx context.Context, key string) (string, error)
	// PutSetting sets key to value.
	PutSetting(ctx context.Context, key, value string) error
}

// Store is everything certd keeps.
type Store interface {
	Accounts
	Orders
	Certificates
	Settings
	Close() error
}
