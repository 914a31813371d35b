//go:build race

package e2e

// The CLI under test is built with -race when the tests are: go test -race
// has already compiled every package for it, so this costs only a link.
func init() { raceEnabled = true }
