package resolver

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocidns/ocidns/discovery"
)

// The cache of resolutions holds a cachedResult for each, not a Result: a
// Result is about 400 bytes of headers before its strings, and a cache of
// a million names holds a million. A cachedResult keeps what is the same
// for every caller, once:
//
//   - the digest, the repository and the pinned reference share one
//     string, the pinned reference host[:port]/repository@digest;
//   - the endpoints and the delegation chain, with the registry and the
//     repository of the endpoint that answered, are one location shared
//     by every cached tag of a repository that discovery sent the same way;
//   - what is rare (a platform selected, a qualified name unlike the
//     reference given, an unknown media type) sits behind one pointer,
//     and so does the signature check's outcome, shared by every hit;
//   - the trace and what belongs to one call (Cached, Stale, the TTL left)
//     are not kept at all.
//
// A hit rebuilds the Result from these without allocating: every string it
// returns already exists.

// cachedResult is one resolution as the cache holds it. Build one with
// newCachedResult; read it back with result.
type cachedResult struct {
	// signature is the Result's, shared by every hit (a verified one
	// keeps no attempts): one pointer, so that a hit stays free of
	// allocation.
	signature *Signature

	// pinned is the Result's Pinned; when digestAt > 0, the Result's
	// digest (of the index when a platform was selected: see rare) is
	// pinned[digestAt:].
	pinned string
	loc    *resultLocation // nil: no endpoints and no chain
	rare   *rareResult     // nil: none of its cases
	size   int64
	ttl    time.Duration
	// digestAt is where the digest starts in pinned; 0: rare.digest.
	digestAt uint16
	// ep is the index in loc.endpoints of the endpoint that answered.
	ep        uint16
	mediaType mediaTypeCode
	dnssecOff bool
	// noDNSSEC is set when the Result's DNSSEC is "unavailable"; any other
	// word is rare.
	noDNSSEC bool
}

// resultLocation is where a repository was found: the endpoints discovery
// produced for it, in order, and the chain it followed. Shared by cached
// resolutions: never modified once made.
type resultLocation struct {
	endpoints []Endpoint
	chain     []discovery.Step
}

// rareResult holds what few resolutions have.
type rareResult struct {
	resolved string // the qualified name, when it is not the reference given
	digest   digest.Digest
	dnssec   string // DNSSEC, when neither "" nor dnssecUnavailable
	// unanswered is set when no endpoint of the location carries the
	// registry, repository and authentication below.
	unanswered    bool
	registry      string
	repository    string
	authenticated discovery.Auth
	mediaType     string // when not one of mediaTypes
	// When a platform was asked for: its name, and the descriptor of its
	// manifest when the reference named an index.
	platform       string
	platformDigest digest.Digest
	descriptor     *ocispec.Descriptor
}

// dnssecUnavailable is the word of Result.DNSSEC for a DNS resolver that
// cannot serve DNSSEC data.
const dnssecUnavailable = "unavailable"

// mediaTypeCode is a manifest media type as a small number: 0 is none,
// and mediaTypeOther means the rare record holds it.
type mediaTypeCode uint8

var mediaTypes = [...]string{
	"",
	ocispec.MediaTypeImageIndex,
	ocispec.MediaTypeImageManifest,
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
	"application/vnd.docker.distribution.manifest.v1+json",
}

const mediaTypeOther = mediaTypeCode(len(mediaTypes))

func mediaTypeCodeOf(mt string) (mediaTypeCode, bool) {
	for i, s := range mediaTypes {
		if s == mt {
			return mediaTypeCode(i), true
		}
	}
	return mediaTypeOther, false
}

// newCachedResult returns res as the cache keeps it, for the reference ref;
// locs shares locations between resolutions.
func newCachedResult(ref string, res *Result, locs *locationInterner) cachedResult {
	c := cachedResult{pinned: res.Pinned, size: res.Size, ttl: res.TTL, dnssecOff: res.DNSSECOff, signature: res.Signature}
	var rare rareResult
	if res.Resolved != ref {
		rare.resolved = res.Resolved
	}
	switch res.DNSSEC {
	case "":
	case dnssecUnavailable:
		c.noDNSSEC = true
	default:
		rare.dnssec = res.DNSSEC
	}
	if i := len(res.Pinned) - len(res.Digest); res.Digest != "" && i > 1 && i <= 1<<16-1 &&
		res.Pinned[i-1] == '@' && res.Pinned[i:] == string(res.Digest) {
		c.digestAt = uint16(i)
	} else {
		rare.digest = res.Digest
	}
	var ok bool
	if c.mediaType, ok = mediaTypeCodeOf(res.MediaType); !ok {
		rare.mediaType = res.MediaType
	}
	if i := answering(res); i >= 0 {
		c.loc, c.ep = locs.intern(res.Endpoints, res.Chain), uint16(i)
	} else {
		rare.unanswered = true
		rare.registry, rare.repository, rare.authenticated = res.Registry, res.Repository, res.Authenticated
		if len(res.Endpoints) > 0 || len(res.Chain) > 0 {
			c.loc = locs.intern(res.Endpoints, res.Chain)
		}
	}
	rare.platform, rare.platformDigest = res.Platform, res.PlatformDigest
	if d := res.Descriptor; !plainDescriptor(d, res) {
		rare.descriptor = &d
	}
	if rare != (rareResult{}) {
		c.rare = &rare
	}
	return c
}

// plainDescriptor reports whether d describes what res's digest names and
// nothing more: the descriptor of every resolution without a platform.
func plainDescriptor(d ocispec.Descriptor, res *Result) bool {
	return d.MediaType == res.MediaType && d.Digest == res.Digest && d.Size == res.Size &&
		d.URLs == nil && d.Annotations == nil && d.Data == nil && d.Platform == nil && d.ArtifactType == ""
}

// answering returns the index of the endpoint whose registry, repository
// and authentication res carries, or -1.
func answering(res *Result) int {
	for i, ep := range res.Endpoints {
		if i > 1<<16-2 {
			break
		}
		if ep.URL == res.Registry && ep.Repository == res.Repository && ep.Authenticated == res.Authenticated {
			return i
		}
	}
	return -1
}

// result returns the Result cached for the reference ref, served age
// after it was stored (see Result.age). It allocates nothing.
func (c *cachedResult) result(ref string, age time.Duration) Result {
	d, mt := digest.Digest(""), ""
	if c.digestAt > 0 {
		d = digest.Digest(c.pinned[c.digestAt:])
	}
	if c.mediaType < mediaTypeOther {
		mt = mediaTypes[c.mediaType]
	}
	res := Result{Ref: ref, Resolved: ref, Digest: d, MediaType: mt, Size: c.size, Pinned: c.pinned,
		Descriptor: ocispec.Descriptor{MediaType: mt, Digest: d, Size: c.size},
		DNSSECOff:  c.dnssecOff, TTL: c.ttl, Signature: c.signature}
	if c.noDNSSEC {
		res.DNSSEC = dnssecUnavailable
	}
	if c.loc != nil {
		res.Endpoints, res.Chain = c.loc.endpoints, c.loc.chain
		if c.rare == nil || !c.rare.unanswered {
			ep := &c.loc.endpoints[c.ep]
			res.Registry, res.Repository, res.Authenticated = ep.URL, ep.Repository, ep.Authenticated
		}
	}
	if c.rare != nil {
		c.rare.fill(&res, c)
	}
	res.age(age)
	return res
}

// fill sets the fields of res that r holds.
func (r *rareResult) fill(res *Result, c *cachedResult) {
	if r.resolved != "" {
		res.Resolved = r.resolved
	}
	if r.dnssec != "" {
		res.DNSSEC = r.dnssec
	}
	if c.digestAt == 0 {
		res.Digest = r.digest
	}
	if c.mediaType == mediaTypeOther {
		res.MediaType = r.mediaType
	}
	if r.unanswered {
		res.Registry, res.Repository, res.Authenticated = r.registry, r.repository, r.authenticated
	}
	res.Platform, res.PlatformDigest = r.platform, r.platformDigest
	res.Descriptor = ocispec.Descriptor{MediaType: res.MediaType, Digest: res.Digest, Size: res.Size}
	if r.descriptor != nil {
		res.Descriptor = *r.descriptor
	}
}

// locationInterner shares resultLocations between cached resolutions: a
// location equal to one still held by the cache is that one. It holds its
// locations weakly, so it is as bounded as the cache.
type locationInterner struct {
	mu   sync.Mutex
	byEP map[string]weak.Pointer[resultLocation] // by the first endpoint's URL and repository
}

// intern returns a location holding endpoints and chain: one already made
// with the same contents, or a new one.
func (l *locationInterner) intern(endpoints []Endpoint, chain []discovery.Step) *resultLocation {
	key := locationKey(endpoints, chain)
	l.mu.Lock()
	defer l.mu.Unlock()
	if wp, ok := l.byEP[key]; ok {
		if loc := wp.Value(); loc != nil && loc.equal(endpoints, chain) {
			return loc
		}
	}
	loc := &resultLocation{endpoints: endpoints, chain: chain}
	wp := weak.Make(loc)
	if l.byEP == nil {
		l.byEP = make(map[string]weak.Pointer[resultLocation])
	}
	l.byEP[key] = wp
	runtime.AddCleanup(loc, l.forget, locationEntry{key, wp})
	return loc
}

type locationEntry struct {
	key string
	wp  weak.Pointer[resultLocation]
}

// forget drops the entry of a location no cached resolution holds any more,
// unless another location has taken its key since.
func (l *locationInterner) forget(e locationEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byEP[e.key] == e.wp {
		delete(l.byEP, e.key)
	}
}

// locationKey names a location by its first endpoint, or its last step.
func locationKey(endpoints []Endpoint, chain []discovery.Step) string {
	switch {
	case len(endpoints) > 0:
		return endpoints[0].URL + "/" + endpoints[0].Repository
	case len(chain) > 0:
		last := chain[len(chain)-1]
		return strings.Join([]string{"", last.Host, last.Path}, "\x00")
	}
	return ""
}

func (loc *resultLocation) equal(endpoints []Endpoint, chain []discovery.Step) bool {
	return slices.Equal(loc.chain, chain) && slices.EqualFunc(loc.endpoints, endpoints, func(a, b Endpoint) bool {
		return a.Endpoint == b.Endpoint && slices.Equal(a.Capabilities, b.Capabilities)
	})
}
