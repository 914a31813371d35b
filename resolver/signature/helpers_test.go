package signature_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// lab is an in-process registry with images to sign, and what a verifier
// needs to read them.
type lab struct {
	reg    *registrytest.Registry
	url    string // where pushes and reads go: the registry, or a proxy before it
	signer signtest.Signer
	// otherDigest is another image of the lab, for signatures that name it.
	otherDigest digest.Digest
}

// newLab starts a plain-HTTP registry.
func newLab(t testing.TB) *lab {
	t.Helper()
	reg := registrytest.StartT(t, registrytest.Options{})
	return &lab{reg: reg, url: reg.URL(), signer: signtest.Signer{Target: reg.Target()}}
}

// withoutReferrers puts a proxy without the referrers API before the
// registry; pushes and reads go through it from now on.
func (l *lab) withoutReferrers(t testing.TB) {
	t.Helper()
	l.url = signtest.WithoutReferrers(t, l.reg.URL(), l.reg.Transport())
	l.signer.Target = registrytest.Target{URL: l.url, Transport: l.reg.Transport()}
}

// image pushes a distinct image as repo:tag.
func (l *lab) image(t testing.TB, repo, tag string) digest.Digest {
	t.Helper()
	return l.reg.MustPushImage(t, repo, tag, registrytest.WithSeed(repo+":"+tag))
}

func (l *lab) fetcher(repo string) signature.Fetcher {
	return signtest.RegistryFetcher{URL: l.url, Repository: repo, Client: l.reg.Client()}
}

// host is the registry host as image names and cosign identities at it
// begin (the proxy's, when there is one).
func (l *lab) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(l.url, "http://"), "https://")
}

// request asks for example.com/<repo>:<tag>, resolved at the lab's
// registry to d, verified with keys.
func (l *lab) request(repo, tag string, d digest.Digest, keys ...*signature.Key) signature.Request {
	return signature.Request{Digest: d, RequestedName: "example.com/" + repo, RequestedTag: tag,
		RegistryRepository: l.host() + "/" + repo, Keys: keys}
}

func (l *lab) signTag(t testing.TB, repo string, d digest.Digest, k *signtest.Key, o signtest.Options) {
	t.Helper()
	if _, err := l.signer.SignTag(context.Background(), repo, d, k, o); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) signBundle(t testing.TB, repo string, d digest.Digest, k *signtest.Key, o signtest.Options) digest.Digest {
	t.Helper()
	md, err := l.signer.SignBundle(context.Background(), repo, d, k, o)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// verify runs Verify, failing the test on a request error.
func verify(t testing.TB, f signature.Fetcher, req signature.Request) signature.Result {
	t.Helper()
	res, err := signature.Verify(context.Background(), f, req)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// attempts renders a result's attempts, one a line, for failure messages.
func attempts(r signature.Result) string {
	var b strings.Builder
	for _, a := range r.Attempts {
		b.WriteString("\n\t")
		b.WriteString(a.String())
	}
	return b.String()
}

// reasons lists the reasons of a result's attempts.
func reasons(r signature.Result) []signature.Reason {
	var out []signature.Reason
	for _, a := range r.Attempts {
		out = append(out, a.Reason)
	}
	return out
}

var algorithms = []signature.Algorithm{signature.ECDSAP256, signature.Ed25519}

type signFunc func(t testing.TB, l *lab, repo string, d digest.Digest, k *signtest.Key, o signtest.Options)

// formats signs in each of cosign's formats.
var formats = []struct {
	format signature.Format
	sign   signFunc
}{
	{signature.FormatSimpleSigning, func(t testing.TB, l *lab, repo string, d digest.Digest, k *signtest.Key, o signtest.Options) {
		l.signTag(t, repo, d, k, o)
	}},
	{signature.FormatBundle, func(t testing.TB, l *lab, repo string, d digest.Digest, k *signtest.Key, o signtest.Options) {
		l.signBundle(t, repo, d, k, o)
	}},
}
