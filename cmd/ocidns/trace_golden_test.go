package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/trace from the output")

// TestTraceGolden pins the text `ocidns trace` prints, event for event,
// against the demo lab with --dnssec off: one golden file a reference in
// testdata/trace. What varies between runs is normalised (see
// normalizeTrace). After an intended change of the output:
//
//	go test ./cmd/ocidns -run TestTraceGolden -update
//
// and read the diff of testdata/trace.
func TestTraceGolden(t *testing.T) {
	lab, flags := labFlags(t)
	for _, tc := range []struct{ name, ref string }{
		{"txt-mapping", "example.test/org/app:v1.0.0"},
		{"delegation-over-two-hops", "example.test/partners/acme/tool:1.0"},
		{"srv-after-absent-txt", "srv.example.test/db/postgres:16"},
		{"well-known-only", lab.WellKnownHost + "/site:1.0"},
		{"tag-not-found", "example.test/org/app:nope"},
		{"no-discovery-records", "no-such.test/app:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"trace", "--dnssec", "off"}, flags...), tc.ref)
			code, out, errOut := runCLI(t, "", args...)
			got := normalizeTrace(out + "; exit " + string(rune('0'+code)) + "\n" + prefixLines("; stderr: ", errOut))
			file := filepath.Join("testdata", "trace", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("ocidns %s\ndiffers from %s (go test ./cmd/ocidns -run TestTraceGolden -update rewrites it):\n%s",
					strings.Join(args, " "), file, lineDiff(string(want), got))
			}
		})
	}
}

func prefixLines(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

var traceNormalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	// The time column: offsets from the first event.
	{regexp.MustCompile(`(?m)^ *[+-]\d+\.\dms `), "    +T.Tms "},
	// Durations of queries and requests.
	{regexp.MustCompile(` in \d+(\.\d+)?(ns|µs|ms|s)\b`), " in T"},
	// Ports the lab's servers were given.
	{regexp.MustCompile(`(127\.0\.0\.1|\.test):\d+\b`), "$1:PORT"},
}

// normalizeTrace makes a trace comparable between runs:
//   - times, durations and the lab's ports are replaced by placeholders;
//   - the A and AAAA questions of one address lookup, asked at once, are
//     put in that order;
//   - the events of lookups no source needed — recorded after the source
//     that decided a hop (or failed discovery) and before the hop's
//     summary, in a number that depends on how far they got before they
//     were cancelled — become one placeholder line.
func normalizeTrace(s string) string {
	for _, n := range traceNormalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	var events [][]string // an event line and its "->" lines
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "->") && len(events) > 0 {
			events[len(events)-1] = append(events[len(events)-1], line)
			continue
		}
		events = append(events, []string{line})
	}
	var out [][]string
	skipping := false
	for _, ev := range events {
		head := ev[0]
		switch {
		case skipping && (isHopSummary(ev) || strings.HasPrefix(head, ";")):
			skipping = false
		case skipping:
			continue
		}
		out = append(out, ev)
		if endsHop(ev) {
			skipping = true
			out = append(out, []string{"    (events of lookups no source needed, not compared)"})
		}
		// An AAAA before the A of the same name: swap them.
		if n := len(out); n >= 2 && strings.Contains(head, " dns       A ") {
			prev := out[n-2][0]
			if name := addressName(head); name != "" && strings.Contains(prev, " dns       AAAA ") && addressName(prev) == name {
				out[n-2], out[n-1] = out[n-1], out[n-2]
			}
		}
	}
	var b strings.Builder
	for _, ev := range out {
		for _, line := range ev {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// endsHop reports the event of a source that decided a hop by a mapping
// (TXT, well-known) or by SRV records, or ended discovery with an unknown
// answer: the lookups of the sources after it are no longer needed.
func endsHop(ev []string) bool {
	return strings.Contains(ev[0], " discovery ") && len(ev) > 1 &&
		(strings.Contains(ev[1], "-> mapping ") || strings.Contains(ev[1], "-> registry located by SRV") ||
			strings.Contains(ev[1], "-> answer unknown, no fall-through"))
}

// isHopSummary reports the event that ends a hop: a delegation or the
// endpoints found.
func isHopSummary(ev []string) bool {
	return strings.Contains(ev[0], " discovery ") && len(ev) > 1 &&
		(strings.Contains(ev[1], "-> delegated to ") || strings.Contains(ev[1], " endpoint(s) after "))
}

var addressQuestion = regexp.MustCompile(` dns +A{1,4} (\S+) `)

func addressName(line string) string {
	if m := addressQuestion.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}

// lineDiff lists the lines of want and got that differ, by position.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		wl, gl := "", ""
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	if slices.Equal(w, g) {
		return "(no line differs)"
	}
	return b.String()
}
