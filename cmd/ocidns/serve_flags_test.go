package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/testkit"
)

// Settings that cannot work are usage errors, before anything listens: a
// zero or negative request timeout (it used to give a 5 s write timeout
// and a 30 s handler, so clients got empty replies), and a zero or
// negative in-flight bound.
func TestServeRefusesSettingsThatCannotWork(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--request-timeout", "0s"}, "--request-timeout must be positive"},
		{[]string{"--request-timeout", "-1s"}, "--request-timeout must be positive"},
		{[]string{"--max-in-flight", "0"}, "--max-in-flight must be positive"},
		{[]string{"--max-in-flight", "-5"}, "--max-in-flight must be positive"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"--allowed-host", "a.example:0"}, "--allowed-host"},
		{[]string{"--allowed-host", "http://a.example/"}, "--allowed-host"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// Were the setting accepted, serve would run until ctx ends.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var errOut testkit.SyncBuffer
			code := runServe(ctx, append([]string{"--listen", "127.0.0.1:0"}, tt.args...), IO{In: strings.NewReader(""), Out: &errOut, Err: &errOut})
			if code != exitUsage || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, output %q; want %d and %q", code, errOut.String(), exitUsage, tt.want)
			}
		})
	}
}
