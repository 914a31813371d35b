package dnssec

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/miekg/dns"
)

// The root KSKs as published by IANA (root-anchors.xml, PublicKey elements):
// RootAnchors' DS records must be the SHA-256 digests of exactly these keys.
var ianaRootKSKs = map[uint16]string{
	20326: "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=",
	38696: "AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=",
}

func TestRootAnchorsAreKSK2017AndKSK2024(t *testing.T) {
	anchors := RootAnchors()
	if len(anchors) != 2 {
		t.Fatalf("RootAnchors() has %d records, want 2", len(anchors))
	}
	seen := map[uint16]bool{}
	for _, rr := range anchors {
		ds, ok := rr.(*dns.DS)
		if !ok {
			t.Fatalf("RootAnchors() holds %T, want *dns.DS", rr)
		}
		if ds.Hdr.Name != "." || ds.Hdr.Class != dns.ClassINET || ds.Algorithm != dns.RSASHA256 || ds.DigestType != dns.SHA256 {
			t.Errorf("anchor %v: want a root DS, RSASHA256, SHA-256", ds)
		}
		key, ok := ianaRootKSKs[ds.KeyTag]
		if !ok {
			t.Errorf("anchor key tag %d, want 20326 or 38696", ds.KeyTag)
			continue
		}
		seen[ds.KeyTag] = true
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
			Flags: 257, Protocol: 3, Algorithm: dns.RSASHA256, PublicKey: key}
		if tag := k.KeyTag(); tag != ds.KeyTag {
			t.Errorf("IANA key for tag %d computes tag %d", ds.KeyTag, tag)
		}
		if want := k.ToDS(dns.SHA256).Digest; !strings.EqualFold(ds.Digest, want) {
			t.Errorf("anchor %d digest %s, want %s (SHA-256 of the IANA key)", ds.KeyTag, ds.Digest, want)
		}
	}
	if !seen[20326] || !seen[38696] {
		t.Errorf("RootAnchors() tags %v, want 20326 and 38696", seen)
	}
	// A fresh copy each call: a caller appending or editing cannot change
	// what the next validator trusts.
	anchors[0].(*dns.DS).Digest = "00"
	if RootAnchors()[0].(*dns.DS).Digest == "00" {
		t.Error("RootAnchors() returns shared records")
	}
}

func TestNewValidatorNilAnchorsMeansRoot(t *testing.T) {
	v := NewValidator(nil, nil, nil)
	if got := v.closestAnchor("_oci-discovery.example.com."); got != "." {
		t.Errorf("closest anchor of a public name = %q, want the root", got)
	}
	v = NewValidator(nil, []dns.RR{}, nil)
	if got := v.closestAnchor("example.com."); got != "" {
		t.Errorf("with an empty anchor list, closest anchor = %q, want none", got)
	}
}

const anchorFileOK = `; trust anchors for the lab
$ORIGIN example.
$TTL 1h
corp  IN DS 31589 13 2 ( 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE
                          C3B2E5F0A1B2C3D4E5F60718 )   ; KSK
corp.example. 3600 IN DNSKEY 257 3 15 ( l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )
      IN DS 2371 15 4 ` + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" + `
. IN DS 20326 8 1 0123456789abcdef0123456789abcdef01234567
`

func TestParseAnchorsReadsZoneFileSyntax(t *testing.T) {
	rrs, err := ParseAnchors(strings.NewReader(anchorFileOK), "lab.anchors")
	if err != nil {
		t.Fatal(err)
	}
	if len(rrs) != 4 {
		t.Fatalf("got %d records, want 4: %v", len(rrs), rrs)
	}
	ds := rrs[0].(*dns.DS)
	if ds.Hdr.Name != "corp.example." || ds.KeyTag != 31589 || ds.Hdr.Ttl != 3600 ||
		!strings.EqualFold(ds.Digest, "3490A6806D47F17A34C29E2CE80E8A999FFBE4BEC3B2E5F0A1B2C3D4E5F60718") {
		t.Errorf("first record = %v", ds)
	}
	if k, ok := rrs[1].(*dns.DNSKEY); !ok || k.Algorithm != dns.ED25519 || k.Flags != 257 {
		t.Errorf("second record = %v, want the Ed25519 DNSKEY", rrs[1])
	}
	// A record starting with a blank reuses the previous owner.
	if d, ok := rrs[2].(*dns.DS); !ok || d.Hdr.Name != "corp.example." || d.DigestType != dns.SHA384 {
		t.Errorf("third record = %v, want a SHA-384 DS at corp.example.", rrs[2])
	}
}

func TestParseAnchorsErrorsNameFileAndLine(t *testing.T) {
	const key13 = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
	tests := []struct {
		name, in, want string
	}{
		{"syntax error in a DS", "\n\nexample. IN DS tag 13 2 00\n", "anchors.txt:3: bad DS KeyTag"},
		{"digest not hex", "example. IN DS 1234 13 2 " + strings.Repeat("zz", 32) + "\n", "anchors.txt:1: DS 1234 for example.: digest \"" + strings.Repeat("zz", 32) + "\" is not hexadecimal"},
		{"other record types", "; comment\n\nexample. IN A 192.0.2.1\n", "anchors.txt:3: A record not allowed"},
		{"unsupported DS digest", "example. IN DS 1234 13 3 0011\n", "anchors.txt:1: DS 1234 for example.: digest type 3 not supported"},
		{"short digest", "example. IN DS 1234 13 2 0011\n", "anchors.txt:1: DS 1234 for example.: SHA-256 digest has 4 hex digits, want 64"},
		{"SHA-1 algorithm", "example. IN DS 1234 5 2 " + strings.Repeat("ab", 32) + "\n", "anchors.txt:1: DS 1234 for example.: algorithm RSASHA1 not supported"},
		{"not a zone key", "example. IN DNSKEY 1 3 13 " + key13 + "\n", "anchors.txt:1: DNSKEY for example.: flags 1 lack the zone key bit"},
		{"revoked key", "example. IN DNSKEY 385 3 13 " + key13 + "\n", "is revoked"},
		{"wrong key size", "example. IN DNSKEY 257 3 13 AAAA\n", "ECDSAP256SHA256 public key is 3 bytes, want 64"},
		{"error on a continued line", "; x\nexample. IN DS ( 1234\n 13 2\n" + strings.Repeat("ab", 31) + " )\n", "anchors.txt:2: DS 1234 for example.: SHA-256 digest has 62 hex digits"},
		{"include", "$INCLUDE /etc/passwd\n", "anchors.txt:1: $INCLUDE not allowed"},
		{"generate", "$GENERATE 1-9 x$ A 1.2.3.$\n", "anchors.txt:1: $GENERATE not allowed"},
		{"bad TTL directive", "$TTL soon\n", "anchors.txt:1: expecting $TTL value"},
		{"unclosed parenthesis", "\nexample. IN DS ( 1234 13 2\n", "anchors.txt:2: \"(\" never closed"},
		{"stray parenthesis", "example. IN DS 1234 13 2 00 )\n", "anchors.txt:1: \")\" without \"(\""},
		{"no owner for first record", "  IN DS 1234 13 2 " + strings.Repeat("ab", 32) + "\n", "anchors.txt:1: record without an owner name"},
		{"empty", "; nothing here\n\n", "anchors.txt: no DS or DNSKEY record"},
		{"binary", "example.\x00 IN DS\n", "anchors.txt:1: NUL byte"},
		{"class CH", "example. CH DS 1234 13 2 " + strings.Repeat("ab", 32) + "\n", "class CH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rrs, err := ParseAnchors(strings.NewReader(tt.in), "anchors.txt")
			if err == nil {
				t.Fatalf("ParseAnchors(%q) = %v, want an error containing %q", tt.in, rrs, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseAnchorsBoundsInput(t *testing.T) {
	big := strings.Repeat("; padding padding padding padding padding padding\n", (maxAnchorFileSize/50)+10)
	_, err := ParseAnchors(strings.NewReader(big), "big.anchors")
	if err == nil || !strings.Contains(err.Error(), "big.anchors: larger than") {
		t.Errorf("oversized file: error %v", err)
	}
	boom := errors.New("disk on fire")
	_, err = ParseAnchors(iotest.ErrReader(boom), "x.anchors")
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x.anchors") {
		t.Errorf("read error: %v", err)
	}
}

func FuzzParseAnchors(f *testing.F) {
	f.Add(anchorFileOK)
	f.Add("example. IN DS ( 1 13 2 \"a;b\" ) ; c\n")
	f.Add("$ORIGIN a.\n@ DNSKEY 257 3 8 AwEAAQ==\n")
	f.Fuzz(func(t *testing.T, in string) {
		rrs, err := ParseAnchors(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, rr := range rrs {
			if checkAnchor(rr) != nil {
				t.Fatalf("accepted %v", rr)
			}
		}
	})
}
