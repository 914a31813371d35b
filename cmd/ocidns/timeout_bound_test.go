package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// commandTimeout is the --timeout given to every command against a DNS
// server that never answers, and timeoutMargin what each may take beyond it:
// generous, for a loaded 2-core machine under -race, and still far below the
// bounds that used to apply instead (discovery's 10 s, the DNS client's 2 s
// per exchange, the cache's 30 s).
const (
	commandTimeout = time.Second
	timeoutMargin  = 1500 * time.Millisecond
)

// Every command that goes to the network finishes within --timeout plus a
// small margin, however the upstream stalls: `discover --timeout 3s` used to
// take discovery's own 10 s.
func TestEveryCommandFinishesWithinTimeout(t *testing.T) {
	silent := dnstest.StartSilent(t)
	flags := []string{"--dns", silent, "--timeout", commandTimeout.String()}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"discover", []string{"discover", "hangs.example/app"}},
		{"resolve", []string{"resolve", "hangs.example/app:v1"}},
		{"trace", []string{"trace", "hangs.example/app:v1"}},
		{"check", []string{"check", "hangs.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, _, errOut := runCLI(t, "", append(tt.args, flags...)...)
			took := time.Since(start)
			if code != exitFailed {
				t.Errorf("exit %d, want %d: %s", code, exitFailed, errOut)
			}
			if took > commandTimeout+timeoutMargin {
				t.Errorf("took %v with --timeout %v (margin %v): %s", took, commandTimeout, timeoutMargin, errOut)
			}
			t.Logf("%s: %v with --timeout %v", tt.name, took.Round(time.Millisecond), commandTimeout)
		})
	}
	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		base, _, stop := startServe(t, flags...)
		t.Cleanup(func() { stop() })
		start := time.Now()
		resp, err := http.Get(base + "/v1/resolve?ref=" + url.QueryEscape("hangs.example/app:v1"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		var e struct{ Code string }
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusGatewayTimeout || e.Code != "TIMEOUT" {
			t.Errorf("status %d body %q: want 504 TIMEOUT", resp.StatusCode, body)
		}
		if took > commandTimeout+timeoutMargin {
			t.Errorf("request took %v with --timeout %v (margin %v)", took, commandTimeout, timeoutMargin)
		}
		t.Logf("serve: %v with --timeout %v", took.Round(time.Millisecond), commandTimeout)
	})
}
