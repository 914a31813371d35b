package dnsclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultResolvConf is the file the system's DNS configuration is read from
// when Config names neither servers nor a file.
const DefaultResolvConf = "/etc/resolv.conf"

// Limits glibc applies to resolv.conf(5), kept so that ocidns asks the
// same servers, as often, as every other program on the machine.
const (
	resolvMaxServers  = 3                // MAXNS
	resolvMaxTimeout  = 30 * time.Second // RES_MAXRETRANS
	resolvMaxAttempts = 5                // RES_MAXRETRY
	resolvMaxBytes    = 1 << 20          // a resolv.conf is a few lines; refuse to slurp a device
)

// resolvConf is the part of resolv.conf(5) that the DNS client uses.
type resolvConf struct {
	servers  []string      // host:port, at most resolvMaxServers
	timeout  time.Duration // 0 when not set
	attempts int           // 0 when not set
	trustAD  bool          // "options trust-ad"
}

// defaultServers is what Go's and glibc's stub resolvers use when
// resolv.conf is missing or names no server: a resolver on this machine.
func defaultServers() []string {
	return []string{"127.0.0.1:53", "[::1]:53"}
}

// readResolvConf reads path. A missing file gives an empty configuration
// (the defaults apply) as it does for the C library, unless the operator
// named the file explicitly: then it is an error naming the file.
func readResolvConf(path string, explicit bool) (*resolvConf, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return &resolvConf{}, nil
		}
		return nil, fmt.Errorf("resolv.conf: %w", err)
	}
	defer f.Close()
	rc, err := parseResolvConf(io.LimitReader(f, resolvMaxBytes+1), path)
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// parseResolvConf parses resolv.conf(5) text. Like the C library it
// ignores what it does not understand (unknown keywords and options, a
// nameserver that is not an IP address): a resolv.conf that works for every
// other program must not stop ocidns. Only an unreadable or oversized file
// is an error.
func parseResolvConf(r io.Reader, file string) (*resolvConf, error) {
	rc := &resolvConf{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	read := 0
	for sc.Scan() {
		line := sc.Text()
		read += len(line) + 1
		if read > resolvMaxBytes {
			return nil, fmt.Errorf("%s: larger than %d bytes", file, resolvMaxBytes)
		}
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 || len(rc.servers) >= resolvMaxServers {
				continue
			}
			// Zones (fe80::1%eth0) are kept: the address is unusable without.
			if _, err := netip.ParseAddr(f[1]); err == nil {
				rc.servers = append(rc.servers, net.JoinHostPort(f[1], "53"))
			}
		case "options":
			for _, o := range f[1:] {
				rc.option(o)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rc, nil
}

func (rc *resolvConf) option(o string) {
	switch {
	case o == "trust-ad":
		rc.trustAD = true
	case strings.HasPrefix(o, "timeout:"):
		if n, err := strconv.Atoi(o[len("timeout:"):]); err == nil && n >= 1 {
			rc.timeout = min(time.Duration(n)*time.Second, resolvMaxTimeout)
		}
	case strings.HasPrefix(o, "attempts:"):
		if n, err := strconv.Atoi(o[len("attempts:"):]); err == nil && n >= 1 {
			rc.attempts = min(n, resolvMaxAttempts)
		}
	}
}
