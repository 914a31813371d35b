package dnsclient

import (
	"strings"
	"testing"
	"time"
)

func TestResolvConfTimeoutAndAttemptsAreClampedAsGlibc(t *testing.T) {
	for _, tc := range []struct {
		opts     string
		timeout  time.Duration
		attempts int
	}{
		{"options timeout:3 attempts:4", 3 * time.Second, 4},
		{"options timeout:99 attempts:99", 30 * time.Second, 5},
		{"options timeout:0 attempts:-1 timeout:x", 0, 0},
		{"options rotate\noptions attempts:1", 0, 1},
	} {
		rc, err := parseResolvConf(strings.NewReader("nameserver 127.0.0.1\n"+tc.opts+"\n"), "test")
		if err != nil {
			t.Fatal(err)
		}
		if rc.timeout != tc.timeout || rc.attempts != tc.attempts {
			t.Errorf("%q: timeout %v attempts %d, want %v %d", tc.opts, rc.timeout, rc.attempts, tc.timeout, tc.attempts)
		}
	}
}

func TestDNSClientDefaultsAndOverrides(t *testing.T) {
	c, err := New(Config{Servers: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout || c.attempts != DefaultAttempts {
		t.Errorf("defaults: timeout %v attempts %d", c.timeout, c.attempts)
	}
	c, err = New(Config{Servers: []string{"127.0.0.1"}, Timeout: time.Second, Attempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != time.Second || c.attempts != 3 {
		t.Errorf("overrides: timeout %v attempts %d", c.timeout, c.attempts)
	}
}

func TestOversizedResolvConfIsAnError(t *testing.T) {
	big := strings.Repeat("# padding padding padding padding padding padding padding padding\n", 20000)
	if _, err := parseResolvConf(strings.NewReader(big), "/dev/huge"); err == nil || !strings.Contains(err.Error(), "/dev/huge") {
		t.Errorf("err %v", err)
	}
}
