//go:build unix

package resolver

import (
	"os/exec"
	"syscall"
)

// killGroup makes cmd a process group of its own and, when its context
// ends, kills the whole group: a helper that is a shell script leaves no
// child behind still holding the output pipe.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
