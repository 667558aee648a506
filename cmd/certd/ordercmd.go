package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/keygen"
	"github.com/certd/certd/internal/progress"
)

// orgFlags are the organization and contact of an order: from --org-file
// (TOML or JSON keyed by the v1 field names), then the flags set.
type orgFlags struct {
	file  string
	flags client.Org
}

func (o *orgFlags) fields() []struct {
	name, usage string
	from, to    func(*client.Org) *string
} {
	type f = struct {
		name, usage string
		from, to    func(*client.Org) *string
	}
	field := func(name, usage string, get func(*client.Org) *string) f { return f{name, usage, get, get} }
	return []f{
		field("org-name", "organization name (org_name)", func(c *client.Org) *string { return &c.OrgName }),
		field("org-unit", "organizational unit (org_unit)", func(c *client.Org) *string { return &c.OrgUnit }),
		field("org-addr1", "street address (org_addr1)", func(c *client.Org) *string { return &c.OrgAddr1 }),
		field("org-addr2", "second address line (org_addr2)", func(c *client.Org) *string { return &c.OrgAddr2 }),
		field("org-city", "city (org_city)", func(c *client.Org) *string { return &c.OrgCity }),
		field("org-state", "state or province (org_state)", func(c *client.Org) *string { return &c.OrgState }),
		field("org-zip", "postal code (org_zip)", func(c *client.Org) *string { return &c.OrgZip }),
		field("org-country", "two-letter country code (org_country)", func(c *client.Org) *string { return &c.OrgCountry }),
		field("telephone", "organization telephone (telephone; EV and code signing)", func(c *client.Org) *string { return &c.Telephone }),
		field("job-title", "contact's job title (org_contact_job_title; EV and code signing)", func(c *client.Org) *string { return &c.OrgContactJobTitle }),
		field("contact-first-name", "contact's first name (org_contact_firstname)", func(c *client.Org) *string { return &c.OrgContactFirstName }),
		field("contact-last-name", "contact's last name (org_contact_lastname)", func(c *client.Org) *string { return &c.OrgContactLastName }),
		field("contact-email", "contact's email (org_contact_email)", func(c *client.Org) *string { return &c.OrgContactEmail }),
		field("contact-phone", "contact's telephone (org_contact_telephone)", func(c *client.Org) *string { return &c.OrgContactTelephone }),
		field("contact-phone-ext", "contact's extension (org_contact_telephone_ext)", func(c *client.Org) *string { return &c.OrgContactTelephoneExt }),
	}
}

func (o *orgFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.file, "org-file", "", "TOML or JSON file of the organization and contact, keyed by the v1 names (org_name = \"...\"); flags override it")
	for _, f := range o.fields() {
		cmd.Flags().StringVar(f.from(&o.flags), f.name, "", f.usage)
	}
}

func (o *orgFlags) resolve(cmd *cobra.Command) (client.Org, error) {
	var org client.Org
	if o.file != "" {
		b, err := os.ReadFile(o.file)
		if err != nil {
			return org, usageError{err}
		}
		if strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			err = dec.Decode(&org)
		} else {
			var md toml.MetaData
			md, err = toml.Decode(string(b), &org)
			if err == nil && len(md.Undecoded()) > 0 {
				err = fmt.Errorf("unknown key %s (keys are the v1 names: org_name, org_addr1, org_contact_email, ...)", md.Undecoded()[0])
			}
		}
		if err != nil {
			return org, usageError{fmt.Errorf("--org-file %s: %w", o.file, err)}
		}
	}
	for _, f := range o.fields() {
		if cmd.Flags().Changed(f.name) {
			*f.to(&org) = *f.from(&o.flags)
		}
	}
	return org, nil
}

// names are --cn and --san.
type names struct {
	cn   string
	sans []string
}

func (n *names) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&n.cn, "cn", "", "common name (the first name of the certificate)")
	cmd.Flags().StringSliceVar(&n.sans, "san", nil, "another name (repeatable, or comma-separated)")
}

func (n *names) all() []string { return append([]string{n.cn}, n.sans...) }

// addOrderClient adds the subscriber's order commands to "certd order".
func addOrderClient(cmd *cobra.Command) {
	cmd.AddCommand(orderSSL(), orderCode(), orderWFA(), orderShow(), orderList(), orderFetch(), orderReissue(), orderRenew(), orderRevoke())
}

func orderSSL() *cobra.Command {
	var cn conn
	var nm names
	var org orgFlags
	var kf keyFlags
	var wf waitFlags
	var validity, serverType int
	var ev, request bool
	var dcv, reqType, businessUnit, comments string
	cmd := &cobra.Command{
		Use:   "ssl --cn NAME [--san NAME...] [--org-file FILE | --org-...] [--wait]",
		Short: "Order a TLS server certificate",
		Long: `Order a TLS server (SSL) certificate. Without --csr or --key a new key
(--key-type, ECDSA P-256 by default) is made and written to key.pem in the
output folder, mode 0600; it is never printed. With --wait the command
shows what the order waits for (the DNS record to publish for each domain,
the organization's validation, an approval) and, once the certificate is
issued, writes cert.pem, chain.pem, fullchain.pem and cert.p7b. With
--request it submits an enterprise request for an administrator to
approve instead (and --wait waits for the approval too).`,
		Example: `  certd order ssl --cn www.example.com --san example.com --org-file org.toml --wait
  certd order ssl --cn www.example.com --key www.key --org-file org.toml --out /etc/ssl/www
  certd order ssl --cn shop.example.com --org-file org.toml --request --comments "for the shop" --wait`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nm.cn == "" {
				return usageError{fmt.Errorf("--cn is required")}
			}
			o, err := org.resolve(cmd)
			if err != nil {
				return err
			}
			c, err := cn.client()
			if err != nil {
				return err
			}
			csr, keyPath, err := kf.csr(nm.cn, nm.all(), wf.folder(nm.cn))
			if err != nil {
				return err
			}
			req := client.OrderSSLRequest{CSR: csr, Validity: validity, CommonName: nm.cn, SANs: nm.sans, ServerType: serverType, Org: o, EV: ev, DCVMethod: dcv}
			ctx := cmd.Context()
			if !request {
				id, err := c.OrderSSL(ctx, req)
				return placed(cmd, c, &cn, &wf, keyPath, id, err)
			}
			reqID, err := c.SubmitRequest(ctx, client.EnterpriseRequest{OrderSSLRequest: req, Type: reqType, BusinessUnit: businessUnit, Comments: comments})
			if err != nil {
				return err
			}
			if !wf.wait {
				r := result{RequestID: reqID, Status: "pending", KeyFile: keyPath, Waiting: []string{"request " + reqID + ": waiting for an administrator's approval"}}
				if cn.json {
					return emit(cmd.OutOrStdout(), r)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "request %s submitted: waiting for an administrator's approval (certd request approve %s)\n", reqID, reqID)
				if keyPath != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "key:  %s (mode 0600; keep it secret)\n", keyPath)
				}
				return nil
			}
			orderID, err := waitForApproval(cmd, c, &cn, &wf, reqID)
			if err != nil {
				return err
			}
			return finish(ctx, cmd, c, &cn, &wf, result{OrderID: orderID, RequestID: reqID, KeyFile: keyPath})
		},
	}
	nm.register(cmd)
	org.register(cmd)
	kf.register(cmd, "ecdsa")
	wf.register(cmd)
	f := cmd.Flags()
	f.IntVar(&validity, "validity", 1, "order term in years (1-3; EV 1-2); certificates within it are reissued shorter")
	f.IntVar(&serverType, "server-type", 0, "server software id of the v1 API (default: other)")
	f.BoolVar(&ev, "ev", false, "extended validation (needs --telephone and --job-title)")
	f.StringVar(&dcv, "dcv-method", "", "domain validation method: dns-txt-token (default), http-token or email")
	f.BoolVar(&request, "request", false, "submit an enterprise request for approval instead of ordering")
	f.StringVar(&reqType, "type", "", "with --request: the request's type (free text)")
	f.StringVar(&businessUnit, "business-unit", "", "with --request: business unit")
	f.StringVar(&comments, "comments", "", "with --request: comments for the approver")
	cn.register(cmd)
	return cmd
}

// waitForApproval polls a request until it is decided: its order's id
// once approved, an error if rejected.
func waitForApproval(cmd *cobra.Command, c *client.Client, cn *conn, wf *waitFlags, reqID string) (string, error) {
	ctx := cmd.Context()
	if wf.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wf.timeout)
		defer cancel()
	}
	to := cmd.OutOrStdout()
	if cn.json {
		to = cmd.ErrOrStderr()
	}
	tty, width := isTerminal(to)
	p := progress.New(to, tty, width)
	for wait := pollStart; ; wait = min(wait*2, pollMax) {
		r, err := c.Request(ctx, reqID)
		if err != nil {
			return "", err
		}
		switch r.Status {
		case "approved":
			p.Done("request " + reqID + " approved: order " + r.OrderID)
			return r.OrderID, nil
		case "rejected":
			p.Done("request " + reqID + " rejected")
			return "", fmt.Errorf("request %s was rejected: %s", reqID, r.Note)
		}
		p.Update([]string{"request " + reqID + ": waiting for an administrator's approval (certd request approve " + reqID + ")"})
		if err := sleep(ctx, wait); err != nil {
			p.Done("")
			return "", stoppedWaiting(err, wf.timeout, "request "+reqID, "certd request show "+reqID)
		}
	}
}

func orderCode() *cobra.Command {
	var cn conn
	var org orgFlags
	var kf keyFlags
	var wf waitFlags
	var validity int
	var ev bool
	var r client.OrderCodeRequest
	cmd := &cobra.Command{
		Use:   "code [--org-file FILE | --org-...] [--platform ID] [--wait]",
		Short: "Order a code signing certificate",
		Long: `Order a code signing certificate for the organization. The key is RSA 3072
by default (the Code Signing Baseline Requirements' minimum), made here
unless --csr or --key is given, or kept on a hardware token with
--provisioning ship_token (the operator then provisions it).`,
		Example: `  certd order code --org-file org.toml --platform 51 --wait --out ./codesign
  certd order code --org-file org.toml --ev --provisioning client_app --platform 2`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := org.resolve(cmd)
			if err != nil {
				return err
			}
			c, err := cn.client()
			if err != nil {
				return err
			}
			req := r
			req.Validity, req.Org, req.EV = validity, o, ev
			keyPath := ""
			if req.CSProvisioningMethod != "ship_token" {
				if req.CSR, keyPath, err = kf.csr(o.OrgName, nil, wf.folder(o.OrgName)); err != nil {
					return err
				}
			}
			id, err := c.OrderCode(cmd.Context(), req)
			return placed(cmd, c, &cn, &wf, keyPath, id, err)
		},
	}
	org.register(cmd)
	kf.register(cmd, "rsa3072")
	wf.register(cmd)
	f := cmd.Flags()
	f.IntVar(&validity, "validity", 1, "order term in years (1-3)")
	f.BoolVar(&ev, "ev", false, "EV code signing")
	f.StringVar(&r.Platform, "platform", "", "platform id (reference appendix A.2; EV: A.3)")
	f.StringVar(&r.CSProvisioningMethod, "provisioning", "", "EV: client_app or ship_token")
	f.StringVar(&r.CSShipMethod, "ship-method", "", "ship_token: standard or expedited")
	f.StringVar(&r.ShipName, "ship-name", "", "ship_token: recipient")
	f.StringVar(&r.ShipAddr1, "ship-addr1", "", "ship_token: address")
	f.StringVar(&r.ShipAddr2, "ship-addr2", "", "ship_token: second address line")
	f.StringVar(&r.ShipCity, "ship-city", "", "ship_token: city")
	f.StringVar(&r.ShipState, "ship-state", "", "ship_token: state")
	f.StringVar(&r.ShipZip, "ship-zip", "", "ship_token: postal code")
	f.StringVar(&r.ShipCountry, "ship-country", "", "ship_token: country code")
	cn.register(cmd)
	return cmd
}

func orderWFA() *cobra.Command {
	var cn conn
	var nm names
	var org orgFlags
	var kf keyFlags
	var wf waitFlags
	var validity int
	var logo, dcv string
	var extraLogos, friendly []string
	cmd := &cobra.Command{
		Use:   "wfa --cn NAME --logo URL --friendly-name LANG=TEXT... [--wait]",
		Short: "Order a Wi-Fi (Passpoint OSU server) certificate",
		Long: `Order a Hotspot 2.0 / Passpoint OSU server certificate: a TLS certificate
with the operator's friendly names and logos. The server fetches every
logo (PNG, JPEG or GIF, at most 256 KiB) when the order is placed.`,
		Example: `  certd order wfa --cn osu.example.com --logo https://example.com/logo.png \
    --friendly-name eng="Example Wi-Fi" --friendly-name spa="Wifi de Ejemplo" --org-file org.toml --wait`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nm.cn == "" || logo == "" || len(friendly) == 0 {
				return usageError{fmt.Errorf("--cn, --logo and at least one --friendly-name are required")}
			}
			req := client.OrderWFARequest{Validity: validity, CommonName: nm.cn, SANs: nm.sans, DefaultLogoURL: logo, DCVMethod: dcv}
			for _, s := range friendly {
				lang, text, ok := strings.Cut(s, "=")
				if !ok {
					return usageError{fmt.Errorf("--friendly-name %q: write LANG=TEXT (eng=Example Wi-Fi)", s)}
				}
				req.FriendlyNames = append(req.FriendlyNames, client.FriendlyName{Language: lang, Text: text})
			}
			for _, s := range extraLogos {
				lang, u, ok := strings.Cut(s, "=")
				if !ok {
					return usageError{fmt.Errorf("--extra-logo %q: write LANG=URL", s)}
				}
				req.AdditionalLogos = append(req.AdditionalLogos, client.Logo{Language: lang, URL: u})
			}
			o, err := org.resolve(cmd)
			if err != nil {
				return err
			}
			req.Org = o
			c, err := cn.client()
			if err != nil {
				return err
			}
			var keyPath string
			if req.CSR, keyPath, err = kf.csr(nm.cn, nm.all(), wf.folder(nm.cn)); err != nil {
				return err
			}
			id, err := c.OrderWFA(cmd.Context(), req)
			return placed(cmd, c, &cn, &wf, keyPath, id, err)
		},
	}
	nm.register(cmd)
	org.register(cmd)
	kf.register(cmd, "ecdsa")
	wf.register(cmd)
	f := cmd.Flags()
	f.IntVar(&validity, "validity", 1, "order term in years (1-3)")
	f.StringVar(&logo, "logo", "", "URL of the default logo")
	f.StringArrayVar(&extraLogos, "extra-logo", nil, "LANG=URL of a logo for a language (repeatable)")
	f.StringArrayVar(&friendly, "friendly-name", nil, "LANG=TEXT operator friendly name (repeatable; LANG is ISO 639-2, eng)")
	f.StringVar(&dcv, "dcv-method", "", "domain validation method: dns-txt-token (default), http-token or email")
	cn.register(cmd)
	return cmd
}

func orderShow() *cobra.Command {
	var cn conn
	cmd := &cobra.Command{
		Use:     "show ORDER_ID",
		Short:   "Show an order: its names, term, certificate, and what it waits for",
		Example: `  certd order show 00000012`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			o, err := c.Order(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cn.json {
				return emit(out, o)
			}
			d := o.CertificateDetails
			kv := [][2]string{
				{"order", d.OrderID}, {"status", d.Status}, {"product", d.ProductName},
				{"common name", d.CommonName}, {"other names", strings.Join(d.SANs, ", ")},
				{"validity", d.Validity}, {"ordered", d.OrderDate},
			}
			if d.ValidFrom != "" {
				kv = append(kv, [2]string{"term", d.ValidFrom + " to " + d.ValidTill})
			}
			if d.RenewedOrderID != nil {
				kv = append(kv, [2]string{"renews", *d.RenewedOrderID})
			}
			kv = append(kv, [2]string{"renewed by", d.RenewalOrderID})
			if d.Revocation != nil {
				kv = append(kv, [2]string{"revoked", localTime(d.Revocation.Date) + " (" + d.Revocation.Reason + ")"})
			}
			if o.Organization != nil {
				kv = append(kv, [2]string{"organization", o.Organization.Name + " (" + o.Organization.Status + ")"})
			}
			fields(out, kv)
			if d.Status == "pending issuance" || o.PendingReissue != nil {
				fmt.Fprintln(out, "waiting for:")
				for _, l := range progress.Describe(o) {
					fmt.Fprintln(out, "  "+l)
				}
			}
			return nil
		},
	}
	cn.register(cmd)
	return cmd
}

func orderList() *cobra.Command {
	var cn conn
	var f client.OrderFilter
	var all bool
	cmd := &cobra.Command{
		Use:   "list [--status S] [--name NAME] [--expires-before DATE] [--all]",
		Short: "List the account's orders, newest first",
		Example: `  certd order list
  certd order list --status issued --expires-before 2027-01-01
  certd order list --name www.example.com --json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			var orders []client.OrderSummary
			page := f
			for {
				p, err := c.Orders(cmd.Context(), page)
				if err != nil {
					return err
				}
				orders = append(orders, p.Orders...)
				page.Cursor = p.NextCursor
				if !all || p.NextCursor == "" {
					break
				}
			}
			out := cmd.OutOrStdout()
			if cn.json {
				return emit(out, map[string]any{"orders": orders, "next_cursor": page.Cursor})
			}
			rows := make([][]string, len(orders))
			for i, o := range orders {
				names := o.CommonName
				if len(o.SANs) > 0 {
					names += fmt.Sprintf(" (+%d)", len(o.SANs))
				}
				rows[i] = []string{o.OrderID, o.Status, o.ProductName, names, o.CertValidTill}
			}
			table(out, []string{"ORDER", "STATUS", "PRODUCT", "NAMES", "EXPIRES"}, rows)
			if page.Cursor != "" {
				fmt.Fprintf(out, "more: certd order list --cursor %s (or --all)\n", page.Cursor)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", `"pending issuance", "issued" or "revoked"`)
	fl.StringVar(&f.Name, "name", "", "orders with this name")
	fl.StringVar(&f.Serial, "serial", "", "the order with a certificate of this serial (hex)")
	fl.StringVar(&f.ExpiresFrom, "expires-after", "", "certificates expiring on or after DATE (YYYY-MM-DD)")
	fl.StringVar(&f.ExpiresTo, "expires-before", "", "certificates expiring before DATE")
	fl.StringVar(&f.IssuedFrom, "issued-after", "", "certificates issued on or after DATE")
	fl.StringVar(&f.IssuedTo, "issued-before", "", "certificates issued before DATE")
	fl.IntVar(&f.Limit, "limit", 0, "orders per page (1-1000; default 100)")
	fl.StringVar(&f.Cursor, "cursor", "", "the page after this cursor (from the previous page)")
	fl.BoolVar(&all, "all", false, "every page")
	cn.register(cmd)
	return cmd
}

func orderFetch() *cobra.Command {
	var cn conn
	var out string
	cmd := &cobra.Command{
		Use:   "fetch ORDER_ID [--out DIR]",
		Short: "Write an issued order's certificate files",
		Long: `Write cert.pem (the certificate), chain.pem (the intermediate),
fullchain.pem (both) and cert.p7b (PKCS#7 with the root) into the folder.
An order not issued yet exits with code 8.`,
		Example: `  certd order fetch 00000012 --out /etc/ssl/www`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cert, err := c.Certificate(ctx, a[0])
			if client.HasCode(err, "cert_unavailable_processing") {
				return notReady{fmt.Sprintf("order %s is not issued yet (certd order show %s says why)", a[0], a[0])}
			}
			if err != nil {
				return err
			}
			dir := out
			if dir == "" {
				o, err := c.Order(ctx, a[0])
				if err != nil {
					return err
				}
				dir = (&waitFlags{}).folder(o.CertificateDetails.CommonName)
			}
			files, err := writeCertificate(dir, cert)
			if err != nil {
				return err
			}
			if cn.json {
				return emit(cmd.OutOrStdout(), result{OrderID: cert.OrderID, Status: "issued", Serial: cert.Serial, Files: files})
			}
			printFiles(cmd.OutOrStdout(), cert.Serial, files)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the files (default: a folder named after the common name)")
	cn.register(cmd)
	return cmd
}

func orderReissue() *cobra.Command {
	var cn conn
	var kf keyFlags
	var wf waitFlags
	var r client.ReissueRequest
	var sans []string
	cmd := &cobra.Command{
		Use:   "reissue ORDER_ID [--new-key | --csr FILE | --key FILE] [--cn NAME] [--san NAME...] [--wait]",
		Short: "Reissue an order's certificate with a new key or names",
		Long: `Ask for a new certificate on an issued order: a new key (--new-key makes
one in the output folder; --csr or --key bring yours), other names (--san
replaces the other names; --san "" removes them), or both.`,
		Example: `  certd order reissue 00000012 --new-key --wait --out ./www-2
  certd order reissue 00000012 --san a.example.com --san b.example.com --csr new.csr`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			o, err := c.Order(ctx, a[0])
			if err != nil {
				return err
			}
			name := o.CertificateDetails.CommonName
			if r.CommonName != "" {
				name = r.CommonName
			}
			req := r
			if cmd.Flags().Changed("san") {
				req.SANs = []string{}
				for _, s := range sans {
					if s != "" {
						req.SANs = append(req.SANs, s)
					}
				}
			}
			names := append([]string{name}, o.CertificateDetails.SANs...)
			if req.SANs != nil {
				names = append([]string{name}, req.SANs...)
			}
			keyPath := ""
			if rekey, err := kf.rekeying(); err != nil {
				return err
			} else if rekey {
				if req.CSR, keyPath, err = kf.csr(name, names, wf.folder(name)); err != nil {
					return err
				}
			}
			re, err := c.Reissue(ctx, a[0], req)
			if err != nil {
				return err
			}
			if !cn.json {
				ch := re.PendingNameChanges
				if len(ch.AddedNames)+len(ch.DroppedNames) > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "names added: %s; dropped: %s\n", strings.Join(ch.AddedNames, ", "), strings.Join(ch.DroppedNames, ", "))
				}
			}
			return finish(ctx, cmd, c, &cn, &wf, result{OrderID: a[0], KeyFile: keyPath}, client.UntilReissued())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&kf.newKey, "new-key", false, "make a new key (--key-type) for the reissue")
	f.StringVar(&r.CommonName, "cn", "", "new common name")
	f.StringSliceVar(&sans, "san", nil, "the other names (repeatable; replaces them)")
	f.StringVar(&r.Comments, "comments", "", "comments")
	kf.register(cmd, "ecdsa")
	wf.register(cmd)
	cn.register(cmd)
	return cmd
}

func orderRenew() *cobra.Command {
	var cn conn
	var kf keyFlags
	var wf waitFlags
	var r client.RenewRequest
	cmd := &cobra.Command{
		Use:   "renew ORDER_ID [--new-key | --csr FILE | --key FILE] [--validity N] [--wait]",
		Short: "Renew an order: a new order with the same details",
		Example: `  certd order renew 00000012 --new-key --wait
  certd order renew 00000012 --validity 2 --csr www.csr`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			keyPath := ""
			if rekey, err := kf.rekeying(); err != nil {
				return err
			} else if rekey {
				o, err := c.Order(ctx, a[0])
				if err != nil {
					return err
				}
				d := o.CertificateDetails
				if r.CSR, keyPath, err = kf.csr(d.CommonName, append([]string{d.CommonName}, d.SANs...), wf.folder(d.CommonName)); err != nil {
					return err
				}
			}
			id, err := c.Renew(ctx, a[0], r)
			return placed(cmd, c, &cn, &wf, keyPath, id, err)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&kf.newKey, "new-key", false, "make a new key (--key-type) for the renewal")
	f.IntVar(&r.Validity, "validity", 0, "term of the new order in years (default: the renewed order's)")
	kf.register(cmd, "ecdsa")
	wf.register(cmd)
	cn.register(cmd)
	return cmd
}

func orderRevoke() *cobra.Command {
	var cn conn
	var r client.RevokeRequest
	cmd := &cobra.Command{
		Use:   "revoke ORDER_ID [--reason REASON] [--comments TEXT]",
		Short: "Revoke an order's certificate (admin keys)",
		Long: `Revoke the order's current certificate. Reasons (RFC 5280, as the BRs
allow them): unspecified (default), keyCompromise, affiliationChanged,
superseded, cessationOfOperation, privilegeWithdrawn.`,
		Example: `  certd order revoke 00000012 --reason keyCompromise --comments "laptop stolen"`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			rev, err := c.Revoke(cmd.Context(), a[0], r)
			if err != nil {
				return err
			}
			if cn.json {
				return emit(cmd.OutOrStdout(), rev)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "order %s revoked: serial %s, %s, at %s\n", rev.OrderID, rev.Serial, rev.Reason, localTime(rev.RevocationDate))
			return nil
		},
	}
	cmd.Flags().StringVar(&r.Reason, "reason", "", "RFC 5280 reason (default unspecified)")
	cmd.Flags().StringVar(&r.Comments, "comments", "", "comments kept with the revocation")
	cn.register(cmd)
	return cmd
}

func newCSR() *cobra.Command {
	var nm names
	var keyFile, keyType, out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "csr --cn NAME [--san NAME...] [--key-type TYPE | --key FILE] [--out DIR]",
		Short: "Make a private key and a certificate signing request",
		Long: `Make a key (ECDSA P-256 by default; --key-type p384, rsa2048, rsa3072 or
rsa4096), written to key.pem in the output folder with mode 0600 and
never printed, and a CSR for the names, written to csr.pem. With --key, an
existing key signs the CSR instead. An existing key.pem is never replaced.`,
		Example: `  certd csr --cn www.example.com --san example.com
  certd csr --cn www.example.com --key-type rsa3072 --out ./www
  certd csr --cn www.example.com --key existing.key --out ./www`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nm.cn == "" {
				return usageError{fmt.Errorf("--cn is required")}
			}
			dir := (&waitFlags{out: out}).folder(nm.cn)
			kf := keyFlags{keyFile: keyFile, keyType: keyType}
			csr, keyPath, err := kf.csr(nm.cn, nm.all(), dir)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			csrPath := filepath.Join(dir, "csr.pem")
			if err := writeAtomic(csrPath, []byte(csr), 0o644); err != nil {
				return err
			}
			if keyPath == "" {
				keyPath = keyFile
			}
			if asJSON {
				return emit(cmd.OutOrStdout(), map[string]string{"key_file": keyPath, "csr_file": csrPath})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key: %s\ncsr: %s\n", keyPath, csrPath)
			return nil
		},
	}
	nm.register(cmd)
	f := cmd.Flags()
	f.StringVar(&keyType, "key-type", "ecdsa", "type of the new key: "+strings.Join(keygen.Types, ", "))
	f.StringVar(&keyFile, "key", "", "existing PEM private key to sign the CSR with")
	f.StringVar(&out, "out", "", "folder for key.pem and csr.pem (default: a folder named after the common name)")
	f.BoolVar(&asJSON, "json", false, "print the file names as JSON")
	return cmd
}
