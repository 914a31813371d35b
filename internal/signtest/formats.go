package signtest

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/resolver/signature"
)

// Payload returns the simple-signing payload cosign signs for an image:
// sigstore's payload.Cosign marshalled by encoding/json, member order
// critical{identity, image, type}, optional; optional is null when cosign
// has no annotations (-a).
func Payload(dockerReference string, d digest.Digest, optional map[string]any) []byte {
	type identity struct {
		DockerReference string `json:"docker-reference"`
	}
	type image struct {
		DockerManifestDigest string `json:"docker-manifest-digest"`
	}
	type critical struct {
		Identity identity `json:"identity"`
		Image    image    `json:"image"`
		Type     string   `json:"type"`
	}
	b, err := json.Marshal(struct {
		Critical critical       `json:"critical"`
		Optional map[string]any `json:"optional"`
	}{critical{identity{dockerReference}, image{d.String()}, "cosign container image signature"}, optional})
	if err != nil {
		panic(err) // only strings and caller maps of JSON values
	}
	return b
}

// Statement returns the in-toto statement cosign signs in the bundle
// format, as protojson writes cosign's intotov1.Statement: members in field
// order, the subject's annotations an empty object (cosign always sets
// them), the predicate empty. predicate, when not nil, is the predicate's
// members (for padding).
func Statement(d digest.Digest, predicateType string, predicate map[string]any) []byte {
	pred, err := json.Marshal(predicate)
	if err != nil {
		panic(err)
	}
	if predicate == nil {
		pred = []byte("{}")
	}
	var b strings.Builder
	b.WriteString(`{"_type":"` + signature.InTotoStatementType + `","subject":[{"digest":{`)
	b.WriteString(strconv.Quote(d.Algorithm().String()) + ":" + strconv.Quote(d.Encoded()))
	b.WriteString(`},"annotations":{}}],"predicateType":`)
	b.WriteString(strconv.Quote(predicateType))
	b.WriteString(`,"predicate":`)
	b.Write(pred)
	b.WriteString("}")
	return []byte(b.String())
}

// PAE is DSSE's pre-authentication encoding of payloadType and body.
func PAE(payloadType string, body []byte) []byte {
	s := "DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(body)) + " "
	return append([]byte(s), body...)
}

// BundleJSON returns a sigstore bundle v0.3 as cosign writes one signed
// with a key and no transparency log: protojson of the bundle, with the
// verification material's public-key hint (left out when hint is "") and a
// DSSE envelope of the in-toto payload with one signature.
func BundleJSON(hint string, payload, sig []byte) []byte {
	var b strings.Builder
	b.WriteString(`{"mediaType":"` + signature.BundleMediaType + `","verificationMaterial":{"publicKey":{`)
	if hint != "" {
		b.WriteString(`"hint":` + strconv.Quote(hint))
	}
	b.WriteString(`}},"dsseEnvelope":{"payload":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(payload))
	b.WriteString(`","payloadType":"` + signature.InTotoPayloadType + `","signatures":[{"sig":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(sig))
	b.WriteString(`"}]}}`)
	return []byte(b.String())
}
