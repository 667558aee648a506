package account

import "github.com/certd/certd/internal/problem"

// Roles an API key can have.
const (
	// RoleAdmin may do everything: order, approve and reject requests,
	// revoke, manage keys.
	RoleAdmin = "admin"
	// RoleRequester may create and view orders and requests.
	RoleRequester = "requester"
	// RoleViewer may only read.
	RoleViewer = "viewer"
)

// Roles lists the roles in order of power.
var Roles = []string{RoleViewer, RoleRequester, RoleAdmin}

// ValidRole reports whether r is a role.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Permission is what an endpoint needs from the calling key.
type Permission int

// The permissions, each implying the ones before it.
const (
	// Read views orders, requests and the account.
	Read Permission = iota
	// Request creates orders and requests, and changes them (reissue,
	// renew).
	Request
	// Admin approves and rejects requests, revokes certificates and
	// manages keys.
	Admin
)

var rolePower = map[string]Permission{RoleViewer: Read, RoleRequester: Request, RoleAdmin: Admin}

// Can reports whether the principal's role grants perm.
func (p Principal) Can(perm Permission) bool {
	power, ok := rolePower[p.Role]
	return ok && power >= perm
}

// Require returns a Forbidden problem unless the principal's role grants
// perm.
func (p Principal) Require(perm Permission) error {
	if p.Can(perm) {
		return nil
	}
	return problem.New(problem.Forbidden, "access_denied:permission", "This API key's role ("+p.Role+") does not allow this action.")
}
