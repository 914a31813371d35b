package resolver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// This file runs Docker credential helpers: `docker-credential-NAME get`
// with the registry's server URL on stdin answers the JSON object
// {"ServerURL", "Username", "Secret"} on stdout, or fails with a message on
// stdout — "credentials not found in native keychain" when it has none
// (the protocol of github.com/docker/docker-credential-helpers, which
// Docker and containers/image speak). A Username of "<token>" means Secret
// is an identity token, an OAuth2 refresh token.
//
// A helper is a program on $PATH named by a file the operator wrote, so it
// runs with ocidns's environment; what it prints is still bounded in size
// and time, and never repeated in a message: a failing helper may print
// the secret it was about to return.

// Bounds of one helper run.
const (
	defaultHelperTimeout = 10 * time.Second
	maxHelperOutput      = 64 << 10 // a credentials object is a few hundred bytes
	// helperWaitDelay is how long after the helper is killed its output
	// pipe may stay open (held by a child it started) before ocidns stops
	// waiting for it.
	helperWaitDelay = time.Second
)

// Messages of the helper protocol, printed on stdout with a non-zero exit.
const (
	helperNotFound      = "credentials not found in native keychain"
	helperTokenUsername = "<token>"
)

// errHelperNoCredentials is a helper's "credentials not found": the
// registry is asked anonymously.
var errHelperNoCredentials = errors.New(helperNotFound)

// helperOutput is the helper's answer on success.
type helperOutput struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// runHelper runs `docker-credential-<name> get` for serverURL within
// timeout. It returns errHelperNoCredentials when the helper has none for
// the server, and errors that name the helper and say what went wrong
// without repeating its output. An absent program is an error wrapping
// exec.ErrNotFound.
func runHelper(ctx context.Context, name, serverURL string, timeout time.Duration) (dockerAuth, error) {
	prog := "docker-credential-" + name
	fail := func(format string, a ...any) (dockerAuth, error) {
		return dockerAuth{}, fmt.Errorf("credential helper %s get (for %s): %w", prog, serverURL, fmt.Errorf(format, a...))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, "get")
	cmd.Stdin = strings.NewReader(serverURL)
	out := &boundedBuffer{max: maxHelperOutput, full: cancel}
	cmd.Stdout = out
	// Stderr goes to /dev/null: a helper may write anything there,
	// secrets included, and ocidns repeats none of it.
	cmd.WaitDelay = helperWaitDelay
	killGroup(cmd)

	err := cmd.Run()
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return fail("%w: install it or remove the entry that names it", exec.ErrNotFound)
	case out.overflow():
		return fail("printed more than %d bytes: not a credentials object", maxHelperOutput)
	case ctx.Err() == context.DeadlineExceeded:
		return fail("no answer within %v", timeout)
	case err != nil && ctx.Err() != nil:
		return fail("%v", ctx.Err())
	case err != nil:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fail("%v", err)
		}
		// The protocol's own messages are safe to repeat; anything else
		// is not shown, as it may contain the secret.
		switch msg := strings.TrimSpace(out.String()); msg {
		case helperNotFound:
			return dockerAuth{}, errHelperNoCredentials
		case "no credentials server URL", "no credentials username":
			return fail("%s (%s)", msg, ee.ProcessState)
		}
		return fail("%s; its output is not shown, as it may hold a secret (run `printf %%s %s | %s get` to see it)", ee.ProcessState, serverURL, prog)
	}

	var o helperOutput
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		return fail("output is not a credentials object {\"ServerURL\", \"Username\", \"Secret\"}")
	}
	a := dockerAuth{Key: serverURL}
	switch {
	case o.Username == "" && o.Secret == "":
		return dockerAuth{}, errHelperNoCredentials
	case o.Username == helperTokenUsername:
		a.IdentityToken = o.Secret
	default:
		a.Username, a.Password = o.Username, o.Secret
	}
	return a, nil
}

// boundedBuffer keeps the first max bytes written to it; past them it
// drops the rest and calls full once, which stops the writer.
type boundedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int
	over bool
	full func()
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		if !b.over {
			b.over = true
			b.full()
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *boundedBuffer) overflow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}

func (b *boundedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

func (b *boundedBuffer) String() string { return string(b.Bytes()) }
