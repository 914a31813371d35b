package dnssec

import (
	"bytes"
	"strings"

	"github.com/miekg/dns"
)

// canonicalCompare orders names as DNSSEC does (RFC 4034 §6.1): label by
// label from the root down, each label compared as lowercase octets, a
// name sorting before its descendants. It returns -1, 0 or +1. Names
// without escapes are compared in place; others in wire form.
func canonicalCompare(a, b string) int {
	if strings.IndexByte(a, '\\') >= 0 || strings.IndexByte(b, '\\') >= 0 {
		return compareWire(a, b)
	}
	a, b = strings.TrimSuffix(a, "."), strings.TrimSuffix(b, ".")
	for {
		switch {
		case a == "" && b == "":
			return 0
		case a == "":
			return -1
		case b == "":
			return 1
		}
		la, ra := lastLabel(a)
		lb, rb := lastLabel(b)
		if c := compareLabel(la, lb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
}

// lastLabel splits off the rightmost label of a name without its trailing
// dot: "a.b" gives "b" and "a".
func lastLabel(s string) (label, rest string) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return s, ""
	}
	return s[i+1:], s[:i]
}

// compareLabel compares two labels as lowercase octets, a shorter label
// that is a prefix of the other first.
func compareLabel(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := lower(a[i]), lower(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// compareWire is canonicalCompare for names with escapes ("a\.b",
// "\000"): their labels are compared as the octets they stand for.
func compareWire(a, b string) int {
	la, lb := wireLabels(a), wireLabels(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	switch {
	case len(la) < len(lb):
		return -1
	case len(la) > len(lb):
		return 1
	}
	return 0
}

// wireLabels returns the lowercase labels of name, leftmost first; a name
// that does not pack is one label of its text, which still orders it.
func wireLabels(name string) [][]byte {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return [][]byte{bytes.ToLower([]byte(name))}
	}
	var labels [][]byte
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		labels = append(labels, bytes.ToLower(buf[off+1:off+1+int(buf[off])]))
	}
	return labels
}

// commonAncestor returns the longest name that is an ancestor of (or
// equal to) both a and b, as a suffix of a.
func commonAncestor(a, b string) string {
	return lastLabels(a, dns.CompareDomainName(a, b))
}

// lastLabels returns the name made of the n rightmost labels of name
// ("." for none).
func lastLabels(name string, n int) string {
	if n <= 0 {
		return "."
	}
	idx := dns.Split(name)
	if n >= len(idx) {
		return dns.Fqdn(name)
	}
	return dns.Fqdn(name[idx[len(idx)-n]:])
}
