package discovery

import "testing"

// --insecure-registry takes host or host:port, as Docker's
// insecure-registries: a listed host allows every port, a listed host:port
// only that one.
func TestInsecureHostsMatchLikeDocker(t *testing.T) {
	insecure := InsecureHosts([]string{"lab.test", "Reg.Test:5000", "[::1]", "127.0.0.1:15000"})
	for hostport, want := range map[string]bool{
		"lab.test":        true,
		"lab.test:8080":   true,
		"reg.test:5000":   true,
		"REG.TEST:5000":   true,
		"reg.test":        false,
		"reg.test:5001":   false,
		"[::1]:443":       true,
		"127.0.0.1:15000": true,
		"127.0.0.1":       false,
		"other.test":      false,
		"not a host":      false,
	} {
		t.Run(hostport, func(t *testing.T) {
			if got := insecure(hostport); got != want {
				t.Errorf("insecure(%q) = %t, want %t", hostport, got, want)
			}
		})
	}
}
