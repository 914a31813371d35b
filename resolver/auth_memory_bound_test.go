package resolver

import (
	"fmt"
	"testing"
	"time"
)

// protocol.md §11: a client remembers at most maxCachedTokens tokens and the
// challenges of maxAuthOrigins registries, least recently used forgotten
// first; a registry used again after being forgotten costs one 401.
func TestAuthMemoryIsBounded(t *testing.T) {
	a := newAuthState(defaultRegTimeout, time.Now)
	now := time.Now()
	for i := range 10 * maxCachedTokens {
		origin := fmt.Sprintf("https://r%d.example:443", i)
		a.store(authKey{origin, "repository:app:pull"}, "Bearer t", now.Add(time.Hour))
		a.rememberBearer(origin, challenge{Scheme: "Bearer", Params: map[string]string{"realm": origin + "/token"}})
		a.rememberBasic(origin, "Basic x")
	}
	if n := a.tokens.Len(); n != maxCachedTokens {
		t.Errorf("%d tokens remembered, want %d", n, maxCachedTokens)
	}
	if n, m := a.bearer.Len(), a.basic.Len(); n != maxAuthOrigins || m != maxAuthOrigins {
		t.Errorf("%d Bearer and %d Basic challenges remembered, want %d", n, m, maxAuthOrigins)
	}
	last := fmt.Sprintf("https://r%d.example:443", 10*maxCachedTokens-1)
	if _, ok := a.cached(authKey{last, "repository:app:pull"}, now); !ok {
		t.Error("the token stored last was forgotten")
	}
	if _, ok := a.knownBearer("https://r0.example:443"); ok {
		t.Error("the challenge stored first is still remembered")
	}
}
