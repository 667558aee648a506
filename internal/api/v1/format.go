package v1

import (
	"mime"
	"strconv"
	"strings"
)

// Format is a wire format of the v1 API.
type Format int

// The two formats.
const (
	JSON Format = iota
	XML
)

// Media types of the v1 API (reference section 4).
const (
	TypeJSON      = "application/vnd.digicert.rest-v1+json"
	TypeXML       = "application/vnd.digicert.rest-v1+xml"
	TypeErrorJSON = "application/vnd.digicert.error+json"
	TypeErrorXML  = "application/vnd.digicert.error+xml"
)

func (f Format) other() Format {
	if f == XML {
		return JSON
	}
	return XML
}

func (f Format) bodyType() string {
	if f == XML {
		return TypeXML
	}
	return TypeJSON
}

func (f Format) errorType() string {
	if f == XML {
		return TypeErrorXML
	}
	return TypeErrorJSON
}

// formatOf maps a media type to a format. Both the versioned vendor types
// and the generic ones are accepted, as real clients send either.
func formatOf(mediaType string) (Format, bool) {
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case TypeJSON, TypeErrorJSON, "application/json", "text/json":
		return JSON, true
	case TypeXML, TypeErrorXML, "application/xml", "text/xml":
		return XML, true
	}
	return JSON, false
}

// contentTypeFormat returns the format named by a request's Content-Type,
// if it names one.
func contentTypeFormat(contentType string) (Format, bool) {
	if contentType == "" {
		return JSON, false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return JSON, false
	}
	return formatOf(mt)
}

// negotiate picks the response format from Accept (reference section 4):
// the best acceptable of JSON and XML; when Accept is absent or only
// wildcards, the format of the request's Content-Type, else JSON. ok is
// false when Accept names only types certd cannot produce (406).
func negotiate(accept []string, contentType string) (f Format, ok bool) {
	fallback, _ := contentTypeFormat(contentType)
	var qJSON, qXML, qAny float64 = -1, -1, -1
	seen := false
	refused := map[Format]bool{}
	for _, line := range accept {
		for _, part := range strings.Split(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if p, err := strconv.ParseFloat(v, 64); err == nil {
					q = p
				}
			}
			if q <= 0 {
				if f, known := formatOf(mt); known {
					refused[f] = true
				}
				continue
			}
			switch mt {
			case "*/*", "application/*", "text/*":
				qAny = max(qAny, q)
				continue
			}
			if f, known := formatOf(mt); known {
				if f == JSON {
					qJSON = max(qJSON, q)
				} else {
					qXML = max(qXML, q)
				}
			}
		}
	}
	switch {
	case !seen:
		return fallback, true
	case qJSON < 0 && qXML < 0 && qAny < 0:
		return JSON, false
	case qJSON < 0 && qXML < 0:
		if refused[fallback] {
			return fallback.other(), !refused[fallback.other()]
		}
		return fallback, true
	case qXML > qJSON:
		return XML, true
	case qJSON > qXML:
		return JSON, true
	default:
		return fallback, true
	}
}

// acceptDecides reports whether an Accept header chooses between JSON and
// XML by itself, that is, whether the request's body format would change
// the answer.
func acceptDecides(accept []string) bool {
	a, _ := negotiate(accept, TypeJSON)
	b, _ := negotiate(accept, TypeXML)
	return a == b
}
