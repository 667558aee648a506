package v1

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/certd/certd/internal/order"
)

// renew is RENEW /order/{id}.
func (h *Handler) renew(ctx context.Context, c *call) (result, error) {
	f := &fields{m: c.body}
	r := order.RenewRequest{
		CSR:        f.text("csr"),
		Validity:   f.text("validity"),
		CommonName: f.text("common_name"),
		ServerType: f.text("server_type"),
		Comments:   f.text("comments"),
	}
	r.SANs, r.SANsGiven = f.names("sans")
	if len(f.problems) > 0 {
		return result{}, f.problems
	}
	o, err := h.orders.Renew(ctx, c.accountID, c.id, r)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusCreated, view: orderCreated{OrderID: FormatOrderID(o.ID)}}, nil
}

type revokedView struct {
	XMLName        xml.Name `json:"-" xml:"response"`
	OrderID        string   `json:"order_id" xml:"order_id"`
	Status         string   `json:"status" xml:"status"`
	Serial         string   `json:"serial" xml:"serial"`
	RevocationDate string   `json:"revocation_date" xml:"revocation_date"`
	Reason         string   `json:"reason" xml:"reason"`
}

// revoke is REVOKE /order/{id}.
func (h *Handler) revoke(ctx context.Context, c *call) (result, error) {
	f := &fields{m: c.body}
	r := order.RevokeRequest{Reason: f.text("reason"), Comments: f.text("comments")}
	if len(f.problems) > 0 {
		return result{}, f.problems
	}
	o, err := h.orders.Revoke(ctx, c.accountID, c.id, r)
	if err != nil {
		return result{}, err
	}
	reason, _ := order.ParseReason(r.Reason)
	return result{status: http.StatusOK, view: revokedView{
		OrderID: FormatOrderID(o.ID), Status: o.Status, Serial: o.CertSerial,
		RevocationDate: timestamp(o.UpdatedAt), Reason: order.ReasonName(reason),
	}}, nil
}

type inventoryItem struct {
	certificateDetails
	Serial        string `json:"serial" xml:"serial"`
	CertValidFrom string `json:"cert_valid_from" xml:"cert_valid_from"`
	CertValidTill string `json:"cert_valid_till" xml:"cert_valid_till"`
}

type orderList struct {
	XMLName    xml.Name             `json:"-" xml:"response"`
	Orders     items[inventoryItem] `json:"orders" xml:"orders"`
	NextCursor string               `json:"next_cursor" xml:"next_cursor"`
}

// listOrders is GET /order: the account's orders, newest first, filtered
// and paged.
func (h *Handler) listOrders(ctx context.Context, c *call) (result, error) {
	f, err := listFilter(c.r.URL.Query(), true)
	if err != nil {
		return result{}, err
	}
	f.AccountID = c.accountID
	os, next, err := h.orders.List(ctx, f)
	if err != nil {
		return result{}, err
	}
	view := orderList{Orders: items[inventoryItem]{item: "order", v: make([]inventoryItem, 0, len(os))}, NextCursor: cursorText(next)}
	for _, o := range os {
		view.Orders.v = append(view.Orders.v, inventoryItem{
			certificateDetails: newOrderView(o).CertificateDetails,
			Serial:             o.CertSerial,
			CertValidFrom:      formatDate(o.CertNotBefore),
			CertValidTill:      formatDate(o.CertNotAfter),
		})
	}
	return result{status: http.StatusOK, view: view}, nil
}
