package v1

import (
	"reflect"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name        string
		accept      []string
		contentType string
		want        Format
		ok          bool
	}{
		{"absent", nil, "", JSON, true},
		{"absent, xml body", nil, TypeXML, XML, true},
		{"absent, generic xml body", nil, "application/xml; charset=utf-8", XML, true},
		{"wildcard", []string{"*/*"}, "", JSON, true},
		{"wildcard, xml body", []string{"*/*"}, TypeXML, XML, true},
		{"json", []string{TypeJSON}, TypeXML, JSON, true},
		{"xml", []string{TypeXML}, "", XML, true},
		{"generic json", []string{"application/json"}, "", JSON, true},
		{"text/xml", []string{"text/xml"}, "", XML, true},
		{"q prefers xml", []string{"application/json;q=0.2, application/xml;q=0.8"}, "", XML, true},
		{"q zero refuses json", []string{"application/json;q=0, */*"}, "", XML, true},
		{"q zero refuses both", []string{"application/json;q=0, application/xml;q=0, */*"}, "", XML, false},
		{"several headers", []string{"text/html", TypeXML}, "", XML, true},
		{"unservable", []string{"text/html"}, "", JSON, false},
		{"unservable with xml body", []string{"image/png"}, TypeXML, JSON, false},
		{"only q=0", []string{"application/json;q=0"}, "", JSON, false},
		{"garbage", []string{";;;"}, "", JSON, false},
		{"application wildcard", []string{"application/*"}, TypeXML, XML, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := negotiate(tt.accept, tt.contentType)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("negotiate(%q, %q) = %v, %v; want %v, %v", tt.accept, tt.contentType, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestBodyFormat(t *testing.T) {
	tests := []struct {
		name  string
		ctype string
		body  string
		want  Format
		ok    bool
	}{
		{"vendor json", TypeJSON, `{}`, JSON, true},
		{"vendor xml", TypeXML, `<r/>`, XML, true},
		{"none, json", "", ` {"a":1}`, JSON, true},
		{"none, xml", "", `<r/>`, XML, true},
		{"form, json", "application/x-www-form-urlencoded", `{"a":1}`, JSON, true},
		{"form, form", "application/x-www-form-urlencoded", `a=1`, JSON, false},
		{"csv", "text/csv", `{}`, JSON, false},
		{"malformed type", "a/b/c;;", `{}`, JSON, false},
		{"empty", "", ``, JSON, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bodyFormat(tt.ctype, []byte(tt.body))
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Fatalf("bodyFormat = %v, %v", got, err)
			}
		})
	}
}

func TestDecodeXML(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]any
		ok   bool
	}{
		{"flat", `<request><csr>x</csr><validity>2</validity></request>`, map[string]any{"csr": "x", "validity": "2"}, true},
		{"list of one", `<r><sans><san>a.example.com</san></sans></r>`, map[string]any{"sans": []any{"a.example.com"}}, true},
		{"list", `<r><sans><san>a</san><san>b</san></sans></r>`, map[string]any{"sans": []any{"a", "b"}}, true},
		{"collection of sets", `<r><additional_logos><additional_logo><language>spa</language><url>u</url></additional_logo></additional_logos></r>`,
			map[string]any{"additional_logos": []any{map[string]any{"language": "spa", "url": "u"}}}, true},
		{"case", `<R><CSR>x</CSR></R>`, map[string]any{"csr": "x"}, true},
		{"empty root", `<request/>`, map[string]any{}, true},
		{"prolog and comment", `<?xml version="1.0"?><!-- hi --><r><a>1</a></r>`, map[string]any{"a": "1"}, true},
		{"cdata", `<r><csr><![CDATA[a<b]]></csr></r>`, map[string]any{"csr": "a<b"}, true},
		{"doctype", `<!DOCTYPE r><r/>`, nil, false},
		{"entity", `<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>`, nil, false},
		{"text root", `<r>text</r>`, nil, false},
		{"unclosed", `<r><a>`, nil, false},
		{"text outside", `x<r/>`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBody(XML, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("decode: %v", err)
			}
			if tt.ok && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestFieldsText(t *testing.T) {
	m, err := decodeBody(JSON, []byte(`{"a":2,"b":2.0,"c":2.5,"d":true,"e":null,"f":"x","g":{"h":1},"i":1e3}`))
	if err != nil {
		t.Fatal(err)
	}
	f := &fields{m: m}
	for name, want := range map[string]string{"a": "2", "b": "2", "c": "2.5", "d": "true", "e": "", "f": "x", "missing": "", "i": "1e3"} {
		if got := f.text(name); got != want {
			t.Errorf("text(%s) = %q, want %q", name, got, want)
		}
	}
	if f.text("g"); len(f.problems) != 1 || !strings.HasPrefix(f.problems[0].Code, "invalid_param:g") {
		t.Errorf("collection as text: %v", f.problems)
	}
}

func TestAcceptDecides(t *testing.T) {
	for accept, want := range map[string]bool{"": false, "*/*": false, "application/*": false, TypeXML: true, "application/json": true, "text/html": true} {
		var h []string
		if accept != "" {
			h = []string{accept}
		}
		if got := acceptDecides(h); got != want {
			t.Errorf("acceptDecides(%q) = %v, want %v", accept, got, want)
		}
	}
}
