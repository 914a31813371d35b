package e2e

import (
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// lab describes the running lab, read from the environment e2e-up.sh wrote.
type lab struct {
	bind      string // named, host:port
	unbound   string // unbound, host:port
	dnsmasq   string // dnsmasq forwarding to named without DNSSEC, host:port
	anchor    string // path of the lab.test DS set
	plainPort string
	tokenPort string
	realmHost string // host:port of the token realm ("localhost:15002")
	// cosignPub is the owner's cosign.pub, published in acme.lab.test;
	// roguePub another key pair's, published nowhere.
	cosignPub string
	roguePub  string
}

var (
	labOnce sync.Once
	theLab  *lab
	labErr  []string
)

// needLab returns the lab, skipping the test (visibly) when the e2e
// environment is not set, and failing it when it is set but incomplete:
// CI must never skip silently because one variable went missing.
func needLab(t *testing.T) *lab {
	t.Helper()
	if os.Getenv("OCIDNS_E2E") != "1" {
		t.Skip("end-to-end test: set OCIDNS_E2E=1 and the lab's variables (.ci/e2e-up.sh DIR writes them to DIR/env; .ci/run does it all)")
	}
	labOnce.Do(func() {
		get := func(k string) string {
			v := os.Getenv(k)
			if v == "" {
				labErr = append(labErr, k)
			}
			return v
		}
		l := &lab{
			bind:      get("OCIDNS_E2E_BIND"),
			unbound:   get("OCIDNS_E2E_UNBOUND"),
			dnsmasq:   get("OCIDNS_E2E_DNSMASQ"),
			anchor:    get("OCIDNS_E2E_ANCHOR"),
			plainPort: get("OCIDNS_E2E_PLAIN_PORT"),
			tokenPort: get("OCIDNS_E2E_TOKEN_PORT"),
			cosignPub: get("OCIDNS_E2E_COSIGN_PUB"),
			roguePub:  get("OCIDNS_E2E_COSIGN_ROGUE_PUB"),
		}
		if realm := get("OCIDNS_E2E_TOKEN_REALM"); realm != "" {
			u, err := url.Parse(realm)
			if err != nil {
				labErr = append(labErr, "OCIDNS_E2E_TOKEN_REALM ("+err.Error()+")")
			} else {
				l.realmHost = u.Host
			}
		}
		theLab = l
	})
	if len(labErr) > 0 {
		t.Fatalf("OCIDNS_E2E=1 but the lab environment is incomplete: missing %s", strings.Join(labErr, ", "))
	}
	return theLab
}

// digest returns the registry's own digest recorded by pushimages for key
// (e.g. "ACME_MULTI_LINUX_ARM64").
func (l *lab) digest(t *testing.T, key string) string {
	t.Helper()
	d := os.Getenv("OCIDNS_E2E_DIGEST_" + key)
	if d == "" {
		t.Fatalf("OCIDNS_E2E_DIGEST_%s is not set: did pushimages run?", key)
	}
	return d
}

// plain and token are the lab's registries as the zones name them.
func (l *lab) plain() string { return "registry.lab.test:" + l.plainPort }
func (l *lab) token() string { return "registry.lab.test:" + l.tokenPort }

// insecure lists every host:port the lab serves over plain HTTP: the two
// registries, the hosts that are their own registry, and the token realm.
func (l *lab) insecure() []string {
	return []string{
		l.plain(), l.token(),
		net.JoinHostPort("unsigned.lab.test", l.plainPort),
		net.JoinHostPort("bogus.lab.test", l.plainPort),
		l.realmHost,
	}
}

func (l *lab) insecureFunc() func(string) bool {
	set := map[string]bool{}
	for _, h := range l.insecure() {
		set[h] = true
	}
	return func(hp string) bool { return set[strings.ToLower(hp)] }
}
