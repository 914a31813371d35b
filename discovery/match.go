package discovery

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// ErrConflict: two mappings for the same prefix send a name to different
// places and are not both registry mirrors. Wrapped by *ConflictError.
var ErrConflict = errors.New("conflicting mappings")

// ConflictError names the two mappings that conflict (A published before B).
type ConflictError struct {
	A, B Mapping
}

// Error names the prefix and both records.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflicting mappings for prefix %q: %s and %s: two mappings of one prefix must both be registry= mirrors",
		e.A.Prefix, quote(describeMapping(e.A)), quote(describeMapping(e.B)))
}

// Is reports ErrConflict, so that errors.Is(err, ErrConflict) holds.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Conflicts returns a *ConflictError for each prefix of ms whose mappings
// conflict as Select judges them (docs/protocol.md §6: the mappings of one
// prefix must all be registry= mirrors; identical delegations count once),
// in the order the prefixes first appear. Clients fail every name under
// such a prefix. It is the check `ocidns records` and `ocidns check` apply
// to a set of mappings, and FormatWellKnown to a document.
func Conflicts(ms []Mapping) []*ConflictError {
	var out []*ConflictError
	for i, m := range ms {
		if slices.ContainsFunc(ms[:i], func(p Mapping) bool { return p.Prefix == m.Prefix }) {
			continue // that prefix was judged
		}
		var ce *ConflictError
		if _, _, err := Select(ms, m.Prefix); errors.As(err, &ce) {
			out = append(out, ce)
		}
	}
	return out
}

func describeMapping(m Mapping) string {
	if m.Record != "" {
		return m.Record
	}
	return FormatTXT(m)
}

// Select picks the mappings that apply to path (a repository path such as
// "acme/team/app"), as the protocol says:
//
//   - a prefix matches on whole components: "acme" matches "acme" and
//     "acme/x", never "acmex"; the empty prefix matches every path;
//   - the longest matching prefix wins;
//   - several mappings with that prefix are mirrors when all are registry=,
//     returned sorted by Priority (stable: equal priorities keep the
//     published order; OrderMirrors does the weighted choice);
//     identical delegate= mappings count once; any other mix is an error,
//     a *ConflictError naming two of them.
//
// rest is path after the prefix, without a leading slash ("" when the prefix
// is the whole path). No match returns (nil, path, nil). matched may share
// ms's backing array (a single match does, without allocating); it has no
// spare capacity, so appending to it never writes into ms.
func Select(ms []Mapping, path string) (matched []Mapping, rest string, err error) {
	best, first, count := -1, -1, 0
	for i := range ms {
		p := ms[i].Prefix
		if len(p) < best || !prefixMatches(p, path) {
			continue
		}
		if len(p) > best {
			best, first, count = len(p), i, 1
		} else {
			count++
		}
	}
	if first < 0 {
		return nil, path, nil
	}
	rest = path[best:]
	if len(rest) > 0 && rest[0] == '/' {
		rest = rest[1:]
	}
	if count == 1 {
		return ms[first : first+1 : first+1], rest, nil
	}

	// Two matching prefixes of equal length are the same string.
	prefix := ms[first].Prefix
	matched = make([]Mapping, 0, count)
	delegate := -1
	for i := first; i < len(ms); i++ {
		if ms[i].Prefix == prefix {
			if ms[i].Registry == "" && delegate < 0 {
				delegate = len(matched)
			}
			matched = append(matched, ms[i])
		}
	}
	if delegate < 0 {
		slices.SortStableFunc(matched, func(a, b Mapping) int { return cmp.Compare(a.Priority, b.Priority) })
		return matched, rest, nil
	}
	d := matched[delegate]
	for i, m := range matched {
		if i != delegate && (m.Registry != "" || !strings.EqualFold(m.Delegate, d.Delegate)) {
			a, b := d, m
			if i < delegate {
				a, b = m, d
			}
			return nil, path, &ConflictError{A: a, B: b}
		}
	}
	return matched[delegate : delegate+1 : delegate+1], rest, nil
}

// prefixMatches reports whether prefix is "" or whole leading components of path.
func prefixMatches(prefix, path string) bool {
	if prefix == "" {
		return true
	}
	if len(path) < len(prefix) || path[:len(prefix)] != prefix {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// OrderMirrors returns ms in the order to try them: ascending Priority, and
// within one priority a weighted random order by Weight (RFC 2782, as
// OrderSRV). ms is not modified. rnd nil uses a process-wide source that is
// safe for concurrent use; a *rand.Rand given here must not be used
// concurrently (rand.Rand is not goroutine-safe).
func OrderMirrors(ms []Mapping, rnd *rand.Rand) []Mapping {
	return orderRFC2782(ms, func(m Mapping) (int, int) { return m.Priority, m.Weight }, rnd)
}

// defaultRand draws from the runtime's goroutine-safe generator; rand/v2's
// Rand has no state of its own besides its Source, so sharing it is safe.
var defaultRand = rand.New(runtimeSource{})

type runtimeSource struct{}

func (runtimeSource) Uint64() uint64 { return rand.Uint64() }

// orderRFC2782 orders items by the selection algorithm of RFC 2782 ("Usage
// rules"): groups of ascending priority; within a group, repeatedly take
// the running sums of the weights of the unordered items, those of weight 0
// placed first, draw r uniformly in [0, sum] and pick the first item whose
// running sum is >= r. Weight-0 items thus keep a small chance (r = 0) when
// others have weight. Negative weights count as 0.
func orderRFC2782[T any](in []T, pw func(T) (prio, weight int), rnd *rand.Rand) []T {
	if rnd == nil {
		rnd = defaultRand
	}
	out := slices.Clone(in)
	weight := func(t T) int {
		_, w := pw(t)
		return max(w, 0)
	}
	slices.SortStableFunc(out, func(a, b T) int {
		pa, _ := pw(a)
		pb, _ := pw(b)
		if c := cmp.Compare(pa, pb); c != 0 {
			return c
		}
		// Weight-0 items first within a priority; otherwise keep the order.
		return cmp.Compare(min(weight(a), 1), min(weight(b), 1))
	})
	for start := 0; start < len(out); {
		p0, _ := pw(out[start])
		end := start + 1
		for end < len(out) {
			if p, _ := pw(out[end]); p != p0 {
				break
			}
			end++
		}
		group := out[start:end]
		for i := 0; i < len(group)-1; i++ {
			sum := 0
			for _, t := range group[i:] {
				sum += weight(t)
			}
			r := rnd.IntN(sum + 1)
			pick, running := i, 0
			for j := i; j < len(group); j++ {
				running += weight(group[j])
				if running >= r {
					pick = j
					break
				}
			}
			// Move the pick to position i, keeping the others' order so that
			// the weight-0 items stay first.
			t := group[pick]
			copy(group[i+1:pick+1], group[i:pick])
			group[i] = t
		}
		start = end
	}
	return out
}
