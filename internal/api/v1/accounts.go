package v1

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/certd/certd/internal/account"
)

type permissionsView struct {
	AllowEV              bool `json:"allow_ev" xml:"allow_ev"`
	AllowCodeSigning     bool `json:"allow_code_signing" xml:"allow_code_signing"`
	AllowApproveRequests bool `json:"allow_approve_requests" xml:"allow_approve_requests"`
	AllowRevoke          bool `json:"allow_revoke" xml:"allow_revoke"`
	AllowOrder           bool `json:"allow_order" xml:"allow_order"`
}

type accountView struct {
	XMLName        xml.Name        `json:"-" xml:"response"`
	AccountID      string          `json:"account_id" xml:"account_id"`
	Name           string          `json:"name" xml:"name"`
	APIUserRole    string          `json:"api_user_role" xml:"api_user_role"`
	APIPermissions permissionsView `json:"api_permissions" xml:"api_permissions"`
	AccountBalance float64         `json:"account_balance" xml:"account_balance"`
}

// getAccount is GET /account: who the calling key is and what it may do.
func (h *Handler) getAccount(ctx context.Context, c *call) (result, error) {
	a, err := h.accounts.Get(ctx, c.accountID)
	if err != nil {
		return result{}, err
	}
	p := c.principal
	return result{status: http.StatusOK, view: accountView{
		AccountID:   account.FormatID(a.ID),
		Name:        a.Name,
		APIUserRole: p.Role,
		APIPermissions: permissionsView{
			AllowEV:              p.Can(account.Request),
			AllowCodeSigning:     p.Can(account.Request),
			AllowApproveRequests: p.Can(account.Admin),
			AllowRevoke:          p.Can(account.Admin),
			AllowOrder:           p.Can(account.Request),
		},
		AccountBalance: 0, // certd does not bill
	}}, nil
}
