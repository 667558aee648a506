package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
)

// OIDLogotype is id-pe-logotype (RFC 3709).
var OIDLogotype = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 12}

var oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}

// Logo is one image of the logotype extension: what the Hotspot 2.0 OSU
// server certificate profile puts there for each of the operator's icons.
type Logo struct {
	MediaType string // image/png, image/jpeg, image/gif
	SHA256    []byte
	URL       string
	Size      int
	Width     int
	Height    int
	Language  string // ISO 639-2 code; empty for the default logo
}

// The structures of RFC 3709's ASN.1 module, which uses IMPLICIT tags.
type hashAlgAndValue struct {
	HashAlg   pkix.AlgorithmIdentifier
	HashValue []byte
}

type logotypeDetails struct {
	MediaType    string            `asn1:"ia5"`
	LogotypeHash []hashAlgAndValue // SIZE (1..MAX)
	LogotypeURI  []asn1.RawValue   // SIZE (1..MAX) OF IA5String
}

type logotypeImageInfo struct {
	// type [0] is DEFAULT color and so omitted.
	FileSize int
	XSize    int
	YSize    int
	Language string `asn1:"optional,tag:4,ia5"`
}

type logotypeImage struct {
	ImageDetails logotypeDetails
	ImageInfo    logotypeImageInfo
}

type logotypeData struct {
	Image []logotypeImage
}

// marshalLogotype builds a logotype extension whose subjectLogo holds the
// logos directly (LogotypeInfo's "direct" choice), each with its media
// type, SHA-256 hash, URL, size, dimensions and language.
func marshalLogotype(logos []Logo) (pkix.Extension, error) {
	var data logotypeData
	for _, l := range logos {
		if len(l.SHA256) != 32 || l.URL == "" || l.MediaType == "" {
			return pkix.Extension{}, errors.New("logotype: incomplete logo")
		}
		if !isIA5(l.URL) || !isIA5(l.MediaType) || !isIA5(l.Language) {
			return pkix.Extension{}, errors.New("logotype: URL, media type and language must be ASCII")
		}
		data.Image = append(data.Image, logotypeImage{
			ImageDetails: logotypeDetails{
				MediaType:    l.MediaType,
				LogotypeHash: []hashAlgAndValue{{HashAlg: pkix.AlgorithmIdentifier{Algorithm: oidSHA256}, HashValue: l.SHA256}},
				LogotypeURI:  []asn1.RawValue{{Tag: asn1.TagIA5String, Bytes: []byte(l.URL)}},
			},
			ImageInfo: logotypeImageInfo{FileSize: l.Size, XSize: l.Width, YSize: l.Height, Language: l.Language},
		})
	}
	seq, err := asn1.Marshal(data)
	if err != nil {
		return pkix.Extension{}, err
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(seq, &raw); err != nil {
		return pkix.Extension{}, err
	}
	// direct [0] IMPLICIT LogotypeData, inside subjectLogo [2], which is
	// explicit because LogotypeInfo is a CHOICE. The tags are built by
	// hand: encoding/asn1 ignores "explicit" on a RawValue that carries
	// its own encoding.
	direct, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: raw.Bytes})
	if err != nil {
		return pkix.Extension{}, err
	}
	subject, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: direct})
	if err != nil {
		return pkix.Extension{}, err
	}
	ext, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: subject})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OIDLogotype, Value: ext}, nil
}

func isIA5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
