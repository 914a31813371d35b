package daemon

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/cache"
	"github.com/ocidns/ocidns/discovery/trace"
)

// latencyBuckets are the histogram's upper bounds in seconds: from a cache
// hit (~µs) to a slow registry (seconds).
var latencyBuckets = []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30}

type histogram struct {
	counts []uint64 // per bucket, cumulative at export time
	sum    float64
	count  uint64
}

// metrics are the daemon's counters, exported in the Prometheus text format
// by hand: a handful of series does not justify a client library.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]*histogram // (path, outcome)
	upstream map[[2]string]uint64     // (source, outcome)
	// rejectedHost counts requests refused for their Host header; they are
	// not in requests, whose path label must stay one of the API's.
	rejectedHost atomic.Uint64
}

func newMetrics() *metrics {
	return &metrics{requests: make(map[[2]string]*histogram), upstream: make(map[[2]string]uint64)}
}

func (m *metrics) observe(path, outcome string, d time.Duration) {
	s := d.Seconds()
	m.mu.Lock()
	h := m.requests[[2]string{path, outcome}]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.requests[[2]string{path, outcome}] = h
	}
	for i, b := range latencyBuckets {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += s
	h.count++
	m.mu.Unlock()
}

// countUpstream counts the requests a resolution sent upstream — the
// events that record one (trace.Event.Request) — successful or not; a
// cache hit has none, so the counters show real upstream load. Labels are
// a closed set: source is "dns", "https" (well-known documents) or
// "registry"; outcome is an rcode name, an HTTP status code, "other" or
// "error" (no response).
func (m *metrics) countUpstream(events []trace.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range events {
		if e.Request == trace.NoRequest {
			continue
		}
		m.upstream[[2]string{upstreamSource(e), upstreamOutcome(e)}]++
	}
}

// upstreamSource is the source label of a request event.
func upstreamSource(e trace.Event) string {
	switch {
	case e.Request == trace.DNS:
		return "dns"
	case e.Source == "registry":
		return "registry"
	}
	return "https"
}

// dnsOutcomes are the rcodes a label names; others are "other".
var dnsOutcomes = map[int]string{
	dns.RcodeSuccess: "NOERROR", dns.RcodeFormatError: "FORMERR", dns.RcodeServerFailure: "SERVFAIL",
	dns.RcodeNameError: "NXDOMAIN", dns.RcodeNotImplemented: "NOTIMP", dns.RcodeRefused: "REFUSED",
}

// upstreamOutcome is the outcome label of a request event.
func upstreamOutcome(e trace.Event) string {
	switch {
	case e.Status == trace.NoResponse:
		return "error"
	case e.Request == trace.DNS:
		if name, ok := dnsOutcomes[e.Status]; ok {
			return name
		}
	case http.StatusText(e.Status) != "":
		return strconv.Itoa(e.Status)
	}
	return "other"
}

func (h *Handler) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	results, sources := h.cfg.Resolver.Stats()
	writeCache(w, "resolutions", results)
	writeCache(w, "discovery", sources)
	h.metrics.write(w)
	fmt.Fprintf(w, "# HELP ocidns_requests_in_flight Requests being served now.\n# TYPE ocidns_requests_in_flight gauge\nocidns_requests_in_flight %d\n", len(h.sem))
	fmt.Fprintf(w, "# HELP ocidns_requests_rejected_total Requests refused before routing, by reason.\n# TYPE ocidns_requests_rejected_total counter\nocidns_requests_rejected_total{reason=\"host\"} %d\n", h.metrics.rejectedHost.Load())
	unavailable := 0
	if _, ok := h.cfg.Resolver.DNSSECUnavailable(); ok {
		unavailable = 1
	}
	fmt.Fprintf(w, "# HELP ocidns_dnssec_unavailable 1 when the DNS resolver was found unable to serve DNSSEC data: mappings are then not authenticated by DNSSEC.\n# TYPE ocidns_dnssec_unavailable gauge\nocidns_dnssec_unavailable %d\n", unavailable)
}

func writeCache(w io.Writer, name string, s cache.Stats) {
	for _, c := range []struct {
		metric, help string
		v            uint64
		gauge        bool
	}{
		{"hits_total", "Fresh cache hits.", s.Hits, false},
		{"misses_total", "Lookups that went upstream.", s.Misses, false},
		{"stale_total", "Answers served stale because a refresh failed.", s.StaleServes, false},
		{"coalesced_total", "Lookups that waited for another's upstream call.", s.Coalesced, false},
		{"evictions_total", "Entries evicted by the size bound.", s.Evictions, false},
		{"abandoned_total", "Upstream calls cancelled because every caller waiting for them left.", s.Abandoned, false},
		{"entries", "Entries in the cache.", s.Entries, true},
		{"upstream_running", "Upstream calls running, abandoned ones still stopping included.", s.Running, true},
		{"upstream_queued", "Upstream calls waiting for a slot under the bound.", s.Queued, true},
	} {
		full := "ocidns_cache_" + c.metric
		typ := "counter"
		if c.gauge {
			typ = "gauge"
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s{cache=%q} %d\n", full, c.help, full, typ, full, name, c.v)
	}
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	fmt.Fprint(w, "# HELP ocidns_request_duration_seconds Requests to the API by path and outcome.\n# TYPE ocidns_request_duration_seconds histogram\n")
	for _, k := range keys {
		h := m.requests[k]
		labels := fmt.Sprintf("path=%q,outcome=%q", k[0], k[1])
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "ocidns_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, b, cum)
		}
		fmt.Fprintf(w, "ocidns_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, h.count)
		fmt.Fprintf(w, "ocidns_request_duration_seconds_sum{%s} %g\nocidns_request_duration_seconds_count{%s} %d\n", labels, h.sum, labels, h.count)
	}
	ukeys := make([][2]string, 0, len(m.upstream))
	for k := range m.upstream {
		ukeys = append(ukeys, k)
	}
	sort.Slice(ukeys, func(i, j int) bool { return ukeys[i][0]+ukeys[i][1] < ukeys[j][0]+ukeys[j][1] })
	fmt.Fprint(w, "# HELP ocidns_upstream_requests_total DNS queries and HTTP requests made upstream, failed resolutions included, by source and outcome (rcode, status, other or error).\n# TYPE ocidns_upstream_requests_total counter\n")
	for _, k := range ukeys {
		fmt.Fprintf(w, "ocidns_upstream_requests_total{source=%q,outcome=%q} %d\n", k[0], k[1], m.upstream[k])
	}
}
