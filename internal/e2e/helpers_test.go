package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/testkit"
)

// served is a running `ocidns serve` and its log.
type served struct {
	addr string
	log  *testkit.SyncBuffer
	proc *proc
}

// listening is the log line in which serve gives the address it took.
var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServe runs `ocidns serve` against the lab through p, on a free
// loopback port, and stops it when the test ends. Every lab server listens
// on loopback, so each is an --allow-local-registry.
func startServe(t *testing.T, l *lab, p resolverPath) served {
	t.Helper()
	args := append(append([]string{"serve", "--listen", "127.0.0.1:0"}, p.flags(l)...), cliCommon(l)...)
	for _, h := range l.insecure() {
		args = append(args, "--allow-local-registry", h)
	}
	s := served{log: &testkit.SyncBuffer{}}
	addrc := make(chan string, 1)
	s.proc = startDaemon(t, "ocidns-serve", exec.Command(ocidnsBinary(t), args...), []string{"DOCKER_CONFIG=" + t.TempDir()}, s.log,
		func(line string) {
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ocidns serve log:\n%s", s.log)
		}
	})
	select {
	case s.addr = <-addrc:
	case <-s.proc.done:
		t.Fatalf("ocidns serve exited (%v) before listening:\n%s", s.proc.err, s.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("ocidns serve did not log its address within 60s:\n%s", s.log)
	}
	return s
}

// proc is a process a test started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // cmd.Wait's, once done is closed
}

// stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it; it reports whether the process exited on SIGTERM.
func (p *proc) stop(grace time.Duration) bool {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

// startDaemon starts cmd with its output going to log and, line by line,
// to each; records it in the lab's pids file, so that e2e-down.sh stops it
// even if this test binary dies first; and stops it (SIGTERM, then SIGKILL
// after 10 s) when the test ends.
func startDaemon(t *testing.T, name string, cmd *exec.Cmd, env []string, log *testkit.SyncBuffer, each func(string)) *proc {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	out := &lineWriter{log: log, each: each}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second // a child left holding the output does not hold Wait
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if dir := os.Getenv("OCIDNS_E2E_DIR"); dir != "" {
		comm := filepath.Base(cmd.Path)
		if len(comm) > 15 {
			comm = comm[:15]
		}
		if f, err := os.OpenFile(filepath.Join(dir, "pids"), os.O_APPEND|os.O_WRONLY, 0); err == nil {
			fmt.Fprintf(f, "%s %d %s\n", name, cmd.Process.Pid, comm)
			f.Close()
		}
	}
	t.Cleanup(func() { p.stop(10 * time.Second) })
	return p
}

// maxLine bounds the part of a line lineWriter holds while it waits for
// the line's end; a longer one is handed on in pieces.
const maxLine = 64 << 10

// lineWriter appends what a process writes to log and hands each line to
// each (when set). exec.Cmd copies the output into it, so Wait returns
// only once the last line is in.
type lineWriter struct {
	log  *testkit.SyncBuffer
	each func(string)
	part []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.log.Write(p)
	if w.each == nil {
		return len(p), nil
	}
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		switch {
		case i >= 0:
			w.each(string(w.part[:i]))
			w.part = w.part[i+1:]
		case len(w.part) > maxLine:
			w.each(string(w.part[:maxLine]))
			w.part = w.part[maxLine:]
		default:
			return len(p), nil
		}
	}
}
