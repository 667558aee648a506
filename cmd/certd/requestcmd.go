package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/progress"
)

func newRequest() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Enterprise requests: list, show, approve, reject",
		Long: `Requests are orders that wait for an administrator's approval
(certd order ssl --request submits one). Approving creates the order.`,
	}
	cmd.AddCommand(requestList(), requestShow(), requestDecide("approve"), requestDecide("reject"))
	return cmd
}

func requestList() *cobra.Command {
	var cn conn
	var status, cursor string
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "list [--status pending|approved|rejected] [--all]",
		Short: "List the account's requests, newest first",
		Example: `  certd request list --status pending
  certd request list --all --json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			var reqs []client.Request
			for {
				p, err := c.Requests(cmd.Context(), status, limit, cursor)
				if err != nil {
					return err
				}
				reqs = append(reqs, p.Requests...)
				cursor = p.NextCursor
				if !all || cursor == "" {
					break
				}
			}
			out := cmd.OutOrStdout()
			if cn.json {
				return emit(out, map[string]any{"requests": reqs, "next_cursor": cursor})
			}
			rows := make([][]string, len(reqs))
			for i, r := range reqs {
				rows[i] = []string{r.RequestID, r.Status, r.CommonName, localTime(r.DateRequested), r.OrderID, r.Comments}
			}
			table(out, []string{"REQUEST", "STATUS", "COMMON NAME", "REQUESTED", "ORDER", "COMMENTS"}, rows)
			if cursor != "" {
				fmt.Fprintf(out, "more: certd request list --cursor %s (or --all)\n", cursor)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "pending, approved or rejected")
	f.IntVar(&limit, "limit", 0, "requests per page (1-1000; default 100)")
	f.StringVar(&cursor, "cursor", "", "the page after this cursor")
	f.BoolVar(&all, "all", false, "every page")
	cn.register(cmd)
	return cmd
}

func requestShow() *cobra.Command {
	var cn conn
	cmd := &cobra.Command{
		Use:     "show REQUEST_ID",
		Short:   "Show a request and its decision",
		Example: `  certd request show 00000003`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			r, err := c.Request(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if cn.json {
				return emit(cmd.OutOrStdout(), r)
			}
			decided := ""
			if r.DecidedBy != nil {
				decided = localTime(r.DateDecided) + " by key " + r.DecidedBy.APIKeyID
			}
			fields(cmd.OutOrStdout(), [][2]string{
				{"request", r.RequestID}, {"status", r.Status}, {"type", r.Type}, {"business unit", r.BusinessUnit},
				{"common name", r.CommonName}, {"other names", strings.Join(r.SANs, ", ")}, {"validity", r.Validity},
				{"organization", r.OrgName}, {"contact", r.ContactEmail}, {"comments", r.Comments},
				{"requested", localTime(r.DateRequested) + " by key " + r.RequestedBy.APIKeyID},
				{"decided", decided}, {"note", r.Note}, {"order", r.OrderID},
			})
			return nil
		},
	}
	cn.register(cmd)
	return cmd
}

// requestDecide is "request approve" or "request reject".
func requestDecide(verb string) *cobra.Command {
	var cn conn
	var note string
	cmd := &cobra.Command{
		Use:   verb + " REQUEST_ID [--note TEXT]",
		Short: map[string]string{"approve": "Approve a request, creating its order (admin keys)", "reject": "Reject a request, with a note saying why (admin keys)"}[verb],
		Example: map[string]string{
			"approve": `  certd request approve 00000003 --note "checked with the shop team"`,
			"reject":  `  certd request reject 00000003 --note "use the wildcard order 00000002"`,
		}[verb],
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if verb == "reject" && note == "" {
				return usageError{fmt.Errorf("--note is required: say why the request is rejected")}
			}
			c, err := cn.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if verb == "approve" {
				id, err := c.ApproveRequest(cmd.Context(), a[0], note)
				if err != nil {
					return err
				}
				if cn.json {
					return emit(out, result{RequestID: a[0], OrderID: id, Status: "approved"})
				}
				fmt.Fprintf(out, "request %s approved: order %s\n", a[0], id)
				return nil
			}
			r, err := c.RejectRequest(cmd.Context(), a[0], note)
			if err != nil {
				return err
			}
			if cn.json {
				return emit(out, r)
			}
			fmt.Fprintf(out, "request %s rejected\n", r.RequestID)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "the decision's note (required to reject)")
	cn.register(cmd)
	return cmd
}

// domainList is "domain list": the account's validated domains through
// the API, or with --data straight from the server's database (operator).
func domainList(operator func(cmd *cobra.Command, accountID string) error) *cobra.Command {
	var cn conn
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List an account's validated domains",
		Long: `List the domains the account has validated, whose validation later orders
reuse, and until when. With --data, read the server's data folder instead
of asking the API (operators, with --account).`,
		Example: `  certd domain list
  certd domain list --data /var/lib/certd --account 000001`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("data") {
				if cn.flags.AccountID == "" {
					return usageError{fmt.Errorf("--data needs --account")}
				}
				return operator(cmd, cn.flags.AccountID)
			}
			c, err := cn.client()
			if err != nil {
				return err
			}
			ds, err := c.Domains(cmd.Context())
			if err != nil {
				return err
			}
			if cn.json {
				return emit(cmd.OutOrStdout(), map[string]any{"domains": ds})
			}
			rows := make([][]string, len(ds))
			for i, d := range ds {
				rows[i] = []string{d.Domain, d.Method, localTime(d.ValidatedAt), localTime(d.ReuseUntil)}
			}
			table(cmd.OutOrStdout(), []string{"DOMAIN", "METHOD", "VALIDATED", "REUSE UNTIL"}, rows)
			return nil
		},
	}
	cn.register(cmd)
	return cmd
}

func domainCheck() *cobra.Command {
	var cn conn
	cmd := &cobra.Command{
		Use:   "check ORDER_ID",
		Short: "Check an order's domains now, and show what to publish",
		Long: `Ask the server to check the order's domain validation now (after you
published the DNS record or the file), and show each domain's state and
what to publish for it. Exits 0 when every domain is validated, 8 while
some still wait; the check's result shows within seconds.`,
		Example: `  certd domain check 00000012`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cn.client()
			if err != nil {
				return err
			}
			st, err := c.CheckDCV(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if cn.json {
				if err := emit(cmd.OutOrStdout(), st); err != nil {
					return err
				}
			}
			pending := 0
			if st.DCV != nil {
				for _, d := range st.DCV.Domains {
					if d.Status != "valid" {
						pending++
					}
					if !cn.json {
						fmt.Fprintln(cmd.OutOrStdout(), progress.Describe(&client.Order{DCV: &client.DCV{Domains: []client.DCVDomain{d}}})[0])
					}
				}
			}
			if pending > 0 {
				return notReady{fmt.Sprintf("order %s: %d domain(s) not validated yet", a[0], pending)}
			}
			return nil
		},
	}
	cn.register(cmd)
	return cmd
}
