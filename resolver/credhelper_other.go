//go:build !unix

package resolver

import "os/exec"

// killGroup leaves cmd's cancellation as it is: the helper is killed, and
// WaitDelay ends the wait for pipes a child of it still holds.
func killGroup(*exec.Cmd) {}
