package v1

import (
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// items is a collection of records: a JSON array (never null), and in XML
// a wrapper element with one element per record, named by item.
type items[T any] struct {
	item string
	v    []T
}

func (l items[T]) MarshalJSON() ([]byte, error) {
	if l.v == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.v)
}

func (l items[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range l.v {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: l.item}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// MaxPageSize is the most records one page of a listing holds.
const MaxPageSize = 1000

// listFilter reads the query parameters shared by the listings: status,
// limit, cursor, and for orders the name, serial and date filters.
func listFilter(q map[string][]string, orders bool) (store.ListFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var ps problem.List
	f := store.ListFilter{Limit: 100}
	f.Status = strings.ReplaceAll(strings.ToLower(get("status")), "_", " ")
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			ps = append(ps, problem.Invalid("limit", "Limit must be a whole number from 1 to "+strconv.Itoa(MaxPageSize)+"."))
		}
		f.Limit = n
	}
	if v := get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			ps = append(ps, problem.Invalid("cursor", "Cursor must be the next_cursor of a previous page."))
		}
		f.Before = n
	}
	if orders {
		if v := get("name"); v != "" {
			n, err := policy.NormalizeDNSName(v)
			if err != nil {
				ps = append(ps, problem.Invalid("name", "Name must be a DNS name: "+err.Error()+"."))
			}
			f.Name = n
		}
		if v := get("serial"); v != "" {
			f.Serial = strings.ToUpper(strings.ReplaceAll(v, ":", ""))
		}
		for _, d := range []struct {
			name string
			dst  *time.Time
		}{{"issued_from", &f.IssuedFrom}, {"issued_to", &f.IssuedTo}, {"expires_from", &f.ExpiresFrom}, {"expires_to", &f.ExpiresTo}} {
			if v := get(d.name); v != "" {
				t, ok := parseDate(v)
				if !ok {
					ps = append(ps, problem.Invalid(d.name, "Dates are YYYY-MM-DD, DD-MON-YYYY or RFC 3339 times."))
				}
				*d.dst = t
			}
		}
	}
	return f, ps.Err()
}

// parseDate accepts 2026-11-29, 29-NOV-2026 (the API's own format) and RFC
// 3339 times; dates are midnight UTC.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", "02-Jan-2006", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func cursorText(next int64) string {
	if next == 0 {
		return ""
	}
	return strconv.FormatInt(next, 10)
}
