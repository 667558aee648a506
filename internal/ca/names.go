package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"unicode/utf8"
)

// OIDWFAHotspotFriendlyName is id-wfa-hotspot-friendlyName, the otherName
// type of a Hotspot 2.0 OSU server's friendly names.
var OIDWFAHotspotFriendlyName = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 40808, 1, 1, 1}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// OtherName is a subjectAltName otherName (RFC 5280 section 4.2.1.6)
// whose value is a UTF8String.
type OtherName struct {
	Type  asn1.ObjectIdentifier
	Value string
}

// marshalSAN builds the subjectAltName extension from DNS names and
// otherNames, which crypto/x509 cannot express.
func marshalSAN(dnsNames []string, others []OtherName) (pkix.Extension, error) {
	var names []asn1.RawValue
	for _, n := range dnsNames {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(n)})
	}
	for _, o := range others {
		if !utf8.ValidString(o.Value) {
			return pkix.Extension{}, errors.New("otherName value is not UTF-8")
		}
		// OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY },
		// and GeneralName's otherName is [0] IMPLICIT OtherName. The tags
		// are built by hand: encoding/asn1 ignores "explicit" on a
		// RawValue that carries its own encoding.
		value, err := asn1.MarshalWithParams(o.Value, "utf8")
		if err != nil {
			return pkix.Extension{}, err
		}
		typeID, err := asn1.Marshal(o.Type)
		if err != nil {
			return pkix.Extension{}, err
		}
		wrapped, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: value})
		if err != nil {
			return pkix.Extension{}, err
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(typeID, wrapped...)})
	}
	der, err := asn1.Marshal(names)
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidSubjectAltName, Value: der}, nil
}
