package v1

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/certd/certd/internal/problem"
)

// MaxBodyBytes is the largest request body certd reads.
const MaxBodyBytes = 64 << 10

// maxDepth bounds the nesting of request bodies; v1 bodies are flat
// objects with at most one level of collections below them.
const maxDepth = 8

var (
	errBodyTooLarge = problem.New(problem.InvalidParam, "request_too_large", fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes))
	errMediaType    = problem.New(problem.InvalidParam, "unsupported_media_type", "The request body must be JSON or XML, sent as application/vnd.digicert.rest-v1+json or application/vnd.digicert.rest-v1+xml.")
	errDTD          = problem.New(problem.InvalidParam, "invalid_body", "XML bodies may not contain a document type or entity declarations.")
	errTooDeep      = problem.New(problem.InvalidParam, "invalid_body", "The request body is nested too deeply.")
)

func invalidBody(format string, err error) *problem.Problem {
	return problem.New(problem.InvalidParam, "invalid_body", fmt.Sprintf("The request body is not valid %s: %v.", format, err))
}

// bodyFormat decides how to read a request body. A body without a usable
// Content-Type (none, or the form type that curl's --data sends, as in the
// reference's own sample) is recognised by its first character.
func bodyFormat(contentType string, body []byte) (Format, error) {
	if f, ok := contentTypeFormat(contentType); ok {
		return f, nil
	}
	mt := ""
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return JSON, errMediaType
		}
	}
	switch mt {
	case "", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream":
		trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
		switch {
		case len(trimmed) == 0:
			return JSON, nil
		case trimmed[0] == '{':
			return JSON, nil
		case trimmed[0] == '<':
			return XML, nil
		}
	}
	return JSON, errMediaType
}

// decodeBody parses a request body into a generic object: JSON objects
// become map[string]any with json.Number numbers; XML elements become
// strings, maps, or (for an element whose children all share one name,
// like <sans><san>..</san></sans>) lists. Keys are lower-cased. An empty
// body is an empty object.
func decodeBody(f Format, body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	if f == XML {
		return decodeXML(body)
	}
	return decodeJSON(body)
}

func decodeJSON(body []byte) (map[string]any, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidBody("JSON", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidBody("JSON", errors.New("unexpected data after the object"))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidBody("JSON", errors.New("expected an object"))
	}
	if depth(m) > maxDepth {
		return nil, errTooDeep
	}
	return lowerKeys(m), nil
}

func depth(v any) int {
	switch t := v.(type) {
	case map[string]any:
		d := 0
		for _, x := range t {
			d = max(d, depth(x))
		}
		return d + 1
	case []any:
		d := 0
		for _, x := range t {
			d = max(d, depth(x))
		}
		return d + 1
	}
	return 0
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

type xmlNode struct {
	name     string
	text     strings.Builder
	children []*xmlNode
}

func decodeXML(body []byte) (map[string]any, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalidBody("XML", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			// <!DOCTYPE ...> and <!ENTITY ...>: refused outright, so no
			// entity is ever expanded or fetched.
			return nil, errDTD
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, errTooDeep
			}
			n := &xmlNode{name: strings.ToLower(t.Name.Local)}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else if root != nil {
				return nil, invalidBody("XML", errors.New("more than one root element"))
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, invalidBody("XML", errors.New("text outside the root element"))
			}
		}
	}
	if root == nil {
		return nil, invalidBody("XML", errors.New("no root element"))
	}
	m, ok := xmlValue(root).(map[string]any)
	if !ok {
		if len(root.children) == 0 && strings.TrimSpace(root.text.String()) == "" {
			return map[string]any{}, nil
		}
		return nil, invalidBody("XML", errors.New("the root element must contain one element per parameter"))
	}
	return m, nil
}

func xmlValue(n *xmlNode) any {
	if len(n.children) == 0 {
		return n.text.String()
	}
	same := true
	for _, c := range n.children[1:] {
		if c.name != n.children[0].name {
			same = false
			break
		}
	}
	if same && len(n.children) > 1 || same && isListName(n.name, n.children[0].name) {
		list := make([]any, len(n.children))
		for i, c := range n.children {
			list[i] = xmlValue(c)
		}
		return list
	}
	m := make(map[string]any, len(n.children))
	for _, c := range n.children {
		m[c.name] = xmlValue(c)
	}
	return m
}

// isListName recognises a one-item collection such as <sans><san>x</san>
// </sans>: the parent's name is the child's plural.
func isListName(parent, child string) bool {
	return parent == child+"s" || parent == child+"es"
}
