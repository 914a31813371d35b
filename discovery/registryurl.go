package discovery

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ocidns/ocidns/reference"
)

// The values a mapping points at — DNS names, hosts, registry URLs — are
// validated here, once, for the TXT parser, the well-known parser,
// ValidateMapping (used by `ocidns records`) and RegistryEndpoint.
// Repository paths follow the grammar of package reference
// (reference.ValidatePath), the one every part of ocidns checks.
//
// The functions return plain errors describing the value; the parsers wrap
// them with where the value was found (*RecordError, *DocumentError).

// ErrPlainHTTP: an http:// registry URL for a host the operator did not
// mark insecure (docs/protocol.md §8.4). Wrapped by the parsers' errors.
var ErrPlainHTTP = errors.New("scheme must be https")

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("0x%02x", c)
	}
	return fmt.Sprintf("%q", c)
}

// canonicalDNSName validates a DNS host name made of LDH labels (RFC 1123:
// letters, digits, hyphens, no hyphen at either end, 1..63 bytes a label,
// at most 253 bytes) and returns it lowercased without a trailing dot. A
// name whose last label is all digits is refused: it reads as an IPv4
// address, not a name.
func canonicalDNSName(s string) (string, error) {
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return "", errors.New("empty DNS name")
	}
	if len(name) > 253 {
		return "", fmt.Errorf("DNS name is %d bytes long, more than 253", len(name))
	}
	lastNumeric := false
	for start := 0; start <= len(name); {
		end := strings.IndexByte(name[start:], '.')
		if end < 0 {
			end = len(name)
		} else {
			end += start
		}
		label := name[start:end]
		if err := checkLDHLabel(label); err != nil {
			return "", err
		}
		lastNumeric = onlyDigitsAndDots(label)
		start = end + 1
	}
	if lastNumeric {
		return "", fmt.Errorf("%q looks like an IP address, not a DNS name", s)
	}
	return strings.ToLower(name), nil
}

func onlyDigitsAndDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

func checkLDHLabel(label string) error {
	if label == "" {
		return errors.New("empty DNS label (\"..\" or a leading dot)")
	}
	if len(label) > 63 {
		return fmt.Errorf("DNS label %q is %d bytes long, more than 63", label, len(label))
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("invalid character %s in DNS label %q: only letters, digits and '-'", quoteByte(c), label)
		}
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return fmt.Errorf("DNS label %q must not begin or end with '-'", label)
	}
	return nil
}

// authority is a validated host[:port].
type authority struct {
	host string // lowercase DNS name, dotted-quad IPv4 or "[v6]"
	port int    // 0 when absent
	// canonical is set when the input was already in canonical form, so
	// callers can reuse it instead of allocating.
	canonical bool
}

func (a authority) String() string {
	if a.port == 0 {
		return a.host
	}
	return fmt.Sprintf("%s:%d", a.host, a.port)
}

// bareHost is the host without brackets: "::1" for "[::1]".
func (a authority) bareHost() string {
	return strings.TrimSuffix(strings.TrimPrefix(a.host, "["), "]")
}

// parseAuthority validates host[:port] as it appears in a URL: a DNS name, an
// IPv4 address or a bracketed IPv6 address without zone, and a port 1..65535.
func parseAuthority(s string) (authority, error) {
	if s == "" {
		return authority{}, errors.New("empty host")
	}
	var a authority
	hostPart, portPart, hasPort := s, "", false
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return a, fmt.Errorf("host %q: missing ']' after IPv6 address", s)
		}
		hostPart = s[:end+1]
		switch after := s[end+1:]; {
		case after == "":
		case after[0] == ':':
			portPart, hasPort = after[1:], true
		default:
			return a, fmt.Errorf("host %q: unexpected %q after IPv6 address", s, after)
		}
		ip, err := netip.ParseAddr(hostPart[1 : len(hostPart)-1])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return a, fmt.Errorf("host %q: not an IPv6 address (zones are not allowed)", hostPart)
		}
		a.host = "[" + ip.String() + "]"
		a.canonical = a.host == hostPart
	} else {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			hostPart, portPart, hasPort = s[:i], s[i+1:], true
		}
		if strings.HasSuffix(hostPart, ".") {
			return a, fmt.Errorf("host %q: no trailing dot in a URL host", hostPart)
		}
		if hostPart != "" && onlyDigitsAndDots(hostPart) {
			// netip accepts only the canonical dotted quad (no leading
			// zeros), so a valid one is its own canonical form.
			if ip, err := netip.ParseAddr(hostPart); err != nil || !ip.Is4() {
				return a, fmt.Errorf("host %q: not a valid IPv4 address", hostPart)
			}
			a.host = hostPart
		} else {
			name, err := canonicalDNSName(hostPart)
			if err != nil {
				return a, fmt.Errorf("host %q: %w", hostPart, err)
			}
			a.host = name
		}
		a.canonical = a.host == hostPart
	}
	if hasPort {
		p, ok := parsePort(portPart)
		if !ok {
			return a, fmt.Errorf("port %q: want a number 1..65535", portPart)
		}
		a.port = p
		a.canonical = a.canonical && portPart[0] != '0'
	}
	return a, nil
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 1 && n <= 65535
}

// ParseHost validates a name's host as discovery takes it — a DNS name, a
// dotted-quad IPv4 or a bracketed IPv6 address, and an optional port — and
// returns the host without port ("[v6]" keeps its brackets) and whether
// discovery looks up TXT and SRV records for it: only for a DNS name
// without port, since a port or an IP literal names one server, not a
// namespace anyone can publish records for.
func ParseHost(host string) (name string, usesDNS bool, err error) {
	a, err := parseAuthority(host)
	if err != nil {
		return "", false, err
	}
	_, ipErr := netip.ParseAddr(a.bareHost())
	return a.host, a.port == 0 && ipErr != nil, nil
}

// InsecureHosts returns the matcher of --insecure-registry HOST[:PORT]
// values, for ParseOptions.Insecure and for every client that must agree
// with it: host:port is allowed plain HTTP when it, or its host alone, was
// listed (Docker's insecure-registries rule).
func InsecureHosts(hosts []string) func(hostport string) bool {
	listed := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		h = strings.ToLower(h)
		if a, err := parseAuthority(h); err == nil {
			h = a.String()
		}
		listed[h] = true
	}
	opt := ParseOptions{Insecure: func(s string) bool { return listed[s] }}
	return func(hostport string) bool {
		a, err := parseAuthority(strings.ToLower(hostport))
		return err == nil && insecureAllowed(opt, a)
	}
}

// insecureAllowed reports whether plain HTTP is allowed for a: the operator
// may mark "host:port" or just "host" (for IPv6 also "[v6]") insecure, as
// Docker's insecure-registries.
func insecureAllowed(opt ParseOptions, a authority) bool {
	if opt.Insecure == nil {
		return false
	}
	if opt.Insecure(a.String()) {
		return true
	}
	if a.port != 0 && opt.Insecure(a.host) {
		return true
	}
	if bare := a.bareHost(); bare != a.host && opt.Insecure(bare) {
		return true
	}
	return false
}

// registryURL is a validated registry URL: scheme://host[:port][/path].
type registryURL struct {
	scheme string // "https" or "http"
	auth   authority
	path   string // repository prefix, "" for none
	// canonical: the input was already canonical (see canonicalRegistryURL).
	canonical bool
}

// origin is scheme://host[:port], with the scheme's default port elided.
func (u registryURL) origin() string { return u.scheme + "://" + u.auth.String() }

// String is the canonical form: lowercase scheme and host, no default port,
// no trailing slash.
func (u registryURL) String() string {
	if u.path == "" {
		return u.origin()
	}
	return u.origin() + "/" + u.path
}

// parseRegistryURL validates a registry URL: https:// (http:// only when
// opt.Insecure allows the host), a valid host[:port], an optional path that
// is a repository prefix, and no userinfo, query or fragment.
func parseRegistryURL(raw string, opt ParseOptions) (registryURL, error) {
	var u registryURL
	i := strings.Index(raw, "://")
	if i < 0 {
		return u, fmt.Errorf("%q is not a URL: want https://host[:port][/repository-prefix]", raw)
	}
	switch scheme := raw[:i]; {
	case strings.EqualFold(scheme, "https"):
		u.scheme = "https"
	case strings.EqualFold(scheme, "http"):
		u.scheme = "http"
	default:
		return u, fmt.Errorf("scheme must be https, not %q", scheme)
	}
	rest := raw[i+3:]
	for j := 0; j < len(rest); j++ {
		switch c := rest[j]; {
		case c == '?':
			return u, errors.New("a registry URL has no query ('?')")
		case c == '#':
			return u, errors.New("a registry URL has no fragment ('#')")
		case c == '@':
			return u, errors.New("a registry URL carries no user information ('@'): credentials belong in the client's configuration")
		case c == '\\' || c <= ' ' || c >= 0x7f:
			return u, fmt.Errorf("invalid character %s in URL", quoteByte(c))
		}
	}
	host, path, _ := strings.Cut(rest, "/")
	a, err := parseAuthority(host)
	if err != nil {
		return u, err
	}
	canonical := a.canonical && raw[:i] == u.scheme
	if u.scheme == "https" && a.port == 443 || u.scheme == "http" && a.port == 80 {
		a.port, canonical = 0, false
	}
	u.auth = a
	// One trailing slash is tolerated ("https://ghcr.io/org/"); "//" is not.
	if n := len(path); n >= 2 && path[n-1] == '/' && path[n-2] != '/' {
		path, canonical = path[:n-1], false
	}
	if path != "" {
		if err := reference.ValidatePath(path); err != nil {
			return u, fmt.Errorf("URL path is the repository prefix: %w", err)
		}
	} else if strings.Contains(rest, "/") && canonical {
		canonical = false // "https://host/"
	}
	u.path = path
	u.canonical = canonical
	if u.scheme == "http" && !insecureAllowed(opt, a) {
		return u, fmt.Errorf("%w: http:// is allowed only for hosts marked insecure (--insecure-registry), and %s is not", ErrPlainHTTP, a)
	}
	return u, nil
}

// canonicalRegistryURL returns the canonical form of a valid registry URL,
// reusing raw when it is already canonical (no allocation).
func canonicalRegistryURL(raw string, opt ParseOptions) (string, error) {
	u, err := parseRegistryURL(raw, opt)
	if err != nil {
		return "", err
	}
	if u.canonical {
		return raw, nil
	}
	return u.String(), nil
}

// allowAllHTTP re-reads URLs that were validated when parsed, under the
// operator's options then.
var allowAllHTTP = ParseOptions{Insecure: func(string) bool { return true }}

// RegistryEndpoint returns where a registry mapping sends a name whose path
// is rest after the mapping's prefix (as Select returns it): url is
// scheme://host[:port] (lowercase host, default port elided) and repository
// is the URL's path prefix joined with rest ("example-tools" + "x" →
// "example-tools/x"; either may be empty, not both). A delegate mapping, an
// invalid URL or an invalid repository is an error naming the registry.
func RegistryEndpoint(m Mapping, rest string) (url, repository string, err error) {
	if m.Registry == "" {
		return "", "", fmt.Errorf("mapping %s has no registry", quote(describeMapping(m)))
	}
	u, err := parseRegistryURL(m.Registry, allowAllHTTP)
	if err != nil {
		return "", "", fmt.Errorf("registry %q: %w", m.Registry, err)
	}
	switch {
	case u.path == "" && rest == "":
		return "", "", fmt.Errorf("registry %s: no repository: the name ends at the prefix %q and the URL has no path", u, m.Prefix)
	case u.path == "":
		repository = rest
	case rest == "":
		repository = u.path
	default:
		repository = u.path + "/" + rest
	}
	if err := reference.ValidatePath(repository); err != nil {
		return "", "", fmt.Errorf("registry %s: repository %q: %w", u, repository, err)
	}
	return u.origin(), repository, nil
}
