package v1

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/store"
)

// list is a collection of strings: a JSON array (never null), and in XML a
// wrapper element holding one element per item, named by item (the
// reference's sans -> san, added_names -> added_name).
type list struct {
	items []string
	item  string
}

func (l list) MarshalJSON() ([]byte, error) {
	if l.items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.items)
}

func (l list) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, s := range l.items {
		if err := e.EncodeElement(s, xml.StartElement{Name: xml.Name{Local: l.item}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// optionalID is an id that may be absent: null in JSON, an empty element
// in XML, so that the key is always present.
type optionalID string

func (o optionalID) MarshalJSON() ([]byte, error) {
	if o == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(o))
}

func (o optionalID) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(string(o), start)
}

func sans(names []string) list { return list{items: names, item: "san"} }

// FormatOrderID renders an order id as the samples do: eight digits,
// zero-padded.
func FormatOrderID(id int64) string { return fmt.Sprintf("%08d", id) }

// formatDate renders a date as the samples do: 03-FEB-2012. A zero time
// (not yet issued) is empty.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strings.ToUpper(t.UTC().Format("02-Jan-2006"))
}

type orderCreated struct {
	XMLName xml.Name `json:"-" xml:"response"`
	OrderID string   `json:"order_id" xml:"order_id"`
}

type certificateDetails struct {
	OrderID        string     `json:"order_id" xml:"order_id"`
	Status         string     `json:"status" xml:"status"`
	ProductName    string     `json:"product_name" xml:"product_name"`
	Validity       string     `json:"validity" xml:"validity"`
	OrgUnit        string     `json:"org_unit" xml:"org_unit"`
	CommonName     string     `json:"common_name" xml:"common_name"`
	SANs           list       `json:"sans" xml:"sans"`
	OrderDate      string     `json:"order_date" xml:"order_date"`
	ValidFrom      string     `json:"valid_from" xml:"valid_from"`
	ValidTill      string     `json:"valid_till" xml:"valid_till"`
	ServerType     string     `json:"server_type" xml:"server_type"`
	ServerTypeName string     `json:"server_type_name" xml:"server_type_name"`
	SiteSealToken  string     `json:"site_seal_token" xml:"site_seal_token"`
	IsRenewal      bool       `json:"is_renewal" xml:"is_renewal"`
	RenewedOrderID optionalID `json:"renewed_order_id" xml:"renewed_order_id"`
	BusinessUnit   string     `json:"business_unit" xml:"business_unit"`
	// certd extensions: the order that renewed this one, and the
	// revocation of its certificate.
	RenewalOrderID string      `json:"renewal_order_id,omitempty" xml:"renewal_order_id,omitempty"`
	Revocation     *revocation `json:"revocation,omitempty" xml:"revocation,omitempty"`
}

type revocation struct {
	Date   string `json:"date" xml:"date"`
	Reason string `json:"reason" xml:"reason"`
}

type nameSet struct {
	CommonName string `json:"common_name" xml:"common_name"`
	SANs       list   `json:"sans" xml:"sans"`
}

type receipt struct {
	OrderTotal string `json:"order_total" xml:"order_total"`
}

type orderView struct {
	XMLName            xml.Name           `json:"-" xml:"response"`
	CertificateDetails certificateDetails `json:"certificate_details" xml:"certificate_details"`
	PendingReissue     *nameSet           `json:"pending_reissue,omitempty" xml:"pending_reissue,omitempty"`
	Receipt            *receipt           `json:"receipt,omitempty" xml:"receipt,omitempty"`
	// DCV is certd's extension: where domain validation stands.
	DCV *dcvView `json:"dcv,omitempty" xml:"dcv,omitempty"`
	// Organization is certd's extension: where the validation of the
	// organization the certificate names stands.
	Organization *orgView `json:"organization,omitempty" xml:"organization,omitempty"`
	// Hold is certd's extension: why the CA refused to sign (lints).
	Hold string `json:"hold,omitempty" xml:"hold,omitempty"`
}

type orgView struct {
	ID          string `json:"id" xml:"id"`
	Name        string `json:"name" xml:"name"`
	Status      string `json:"status" xml:"status"`
	ValidatedAt string `json:"validated_at" xml:"validated_at"`
	Note        string `json:"note" xml:"note"`
}

// sansOf lists an order's names other than its common name, as the v1
// API's sans field does.
func sansOf(cn string, names []string) []string {
	out := []string{}
	for _, n := range names {
		if n != cn {
			out = append(out, n)
		}
	}
	return out
}

func newOrderView(o store.Order) orderView {
	stName, _ := policy.ServerTypeName(o.ServerType)
	v := orderView{CertificateDetails: certificateDetails{
		OrderID:        FormatOrderID(o.ID),
		Status:         o.Status,
		ProductName:    order.ProductName(o),
		Validity:       fmt.Sprintf("%d Year(s)", o.ValidityYears),
		OrgUnit:        o.Contact.OrgUnit,
		CommonName:     o.CommonName,
		SANs:           sans(sansOf(o.CommonName, o.SANs)),
		OrderDate:      formatDate(o.CreatedAt),
		ValidFrom:      formatDate(o.ValidFrom),
		ValidTill:      formatDate(o.ValidTill),
		ServerType:     fmt.Sprint(o.ServerType),
		ServerTypeName: stName,
		SiteSealToken:  o.SiteSealToken,
		IsRenewal:      o.RenewedOrderID != 0,
		BusinessUnit:   o.BusinessUnit,
	}}
	if o.RenewedOrderID != 0 {
		v.CertificateDetails.RenewedOrderID = optionalID(FormatOrderID(o.RenewedOrderID))
	}
	if o.RenewalOrderID != 0 {
		v.CertificateDetails.RenewalOrderID = FormatOrderID(o.RenewalOrderID)
	}
	if o.Pending != nil {
		v.PendingReissue = &nameSet{CommonName: o.Pending.CommonName, SANs: sans(sansOf(o.Pending.CommonName, o.Pending.SANs))}
	}
	if o.Status == store.StatusIssued {
		v.Receipt = &receipt{OrderTotal: "0.00"}
	}
	v.Hold = o.Holds[order.LintHold]
	return v
}

type certs struct {
	Certificate  string `json:"certificate" xml:"certificate"`
	Intermediate string `json:"intermediate" xml:"intermediate"`
	Root         string `json:"root" xml:"root"`
	PKCS7        string `json:"pkcs7" xml:"pkcs7"`
}

type certificateView struct {
	XMLName xml.Name `json:"-" xml:"response"`
	OrderID string   `json:"order_id" xml:"order_id"`
	Serial  string   `json:"serial" xml:"serial"`
	Certs   certs    `json:"certs" xml:"certs"`
}

func newCertificateView(b order.Bundle) certificateView {
	return certificateView{
		OrderID: FormatOrderID(b.OrderID),
		Serial:  b.Serial,
		Certs:   certs{Certificate: b.Certificate, Intermediate: b.Intermediate, Root: b.Root, PKCS7: b.PKCS7},
	}
}

type nameChanges struct {
	AddedNames   list `json:"added_names" xml:"added_names"`
	DroppedNames list `json:"dropped_names" xml:"dropped_names"`
}

type reissueView struct {
	XMLName            xml.Name    `json:"-" xml:"response"`
	PendingNameChanges nameChanges `json:"pending_name_changes" xml:"pending_name_changes"`
	RejectedReissue    *nameSet    `json:"rejected_reissue,omitempty" xml:"rejected_reissue,omitempty"`
}

func newReissueView(r order.ReissueResult) reissueView {
	v := reissueView{PendingNameChanges: nameChanges{
		AddedNames:   list{items: r.Added, item: "added_name"},
		DroppedNames: list{items: r.Dropped, item: "dropped_name"},
	}}
	if r.Rejected != nil {
		v.RejectedReissue = &nameSet{CommonName: r.Rejected.CommonName, SANs: sans(sansOf(r.Rejected.CommonName, r.Rejected.SANs))}
	}
	return v
}

type errorItem struct {
	Code        string `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type errorsView struct {
	XMLName xml.Name    `json:"-" xml:"errors"`
	Errors  []errorItem `json:"errors" xml:"error"`
}
