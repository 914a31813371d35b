//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The waterfall with the keyboard only, in chromium driven over the
// DevTools protocol: Tab from the name field reaches the bars, a focused
// bar shows its server, answer, TTL and duration, the next Tab moves the
// tooltip to the next bar, and Escape hides it.
func TestTracePageWithTheKeyboard(t *testing.T) {
	browser := findChromium(t)
	lab, flags := labFlags(t)
	base, logs, stop := startServe(t, append(flags, allowLab(lab)...)...)
	defer func() {
		if code := stop(); code != 0 {
			t.Errorf("serve exited %d: %s", code, logs.String())
		}
	}()
	b := browser.devtools(t)
	b.open(t, base+"/?ref="+url.QueryEscape("example.test/vendor/scanner:1.0"))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// Until the page has loaded, it may have no context to evaluate in.
		if state, err := b.try(t, `document.body && document.body.getAttribute("data-state")`); err == nil && state == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page did not finish drawing the trace")
		}
	}
	if b.eval(t, `document.activeElement.tagName`) != "BODY" {
		b.eval(t, `document.activeElement.blur(), ""`)
	}

	tabs := 0
	for b.eval(t, `String(document.activeElement.classList.contains("bar"))`) != "true" {
		if tabs++; tabs > 20 {
			t.Fatalf("20 presses of Tab reach no bar of the waterfall (focus on %s)", b.eval(t, `document.activeElement.outerHTML.slice(0, 80)`))
		}
		b.key(t, "Tab", 9)
	}
	first := b.eval(t, `document.activeElement.getAttribute("data-id")`)
	tip := b.eval(t, `document.getElementById("tip").hidden ? "" : document.getElementById("tip").textContent`)
	label := b.eval(t, `document.activeElement.getAttribute("aria-label")`)
	if tip == "" || !strings.Contains(tip, "Took") || !strings.Contains(label, "took ") {
		t.Fatalf("bar %s focused after %d Tabs: tooltip %q, label %q", first, tabs, tip, label)
	}

	b.key(t, "Tab", 9)
	next := b.eval(t, `document.activeElement.getAttribute("data-id")`)
	tip2 := b.eval(t, `document.getElementById("tip").hidden ? "" : document.getElementById("tip").textContent`)
	if next == first || tip2 == "" || tip2 == tip {
		t.Errorf("the next Tab: bar %s (was %s), tooltip %q", next, first, tip2)
	}
	if !strings.Contains(tip2, "Server") || !strings.Contains(tip2, "Answer") {
		b.key(t, "Tab", 9) // a bar of a query: it had a server and an answer
		tip2 = b.eval(t, `document.getElementById("tip").textContent`)
		if !strings.Contains(tip2, "Server") || !strings.Contains(tip2, "Answer") || !strings.Contains(tip2, "TTL") {
			t.Errorf("the tooltip of a DNS query lacks its server, answer or TTL: %q", tip2)
		}
	}
	b.key(t, "Escape", 27)
	if b.eval(t, `String(document.getElementById("tip").hidden)`) != "true" {
		t.Error("Escape left the tooltip shown")
	}
	b.close(t)
}

// devtools is chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ending in a NUL byte, ours on
// its fd 3, its on fd 4), attached to one page.
type devtools struct {
	cmd     *exec.Cmd
	in      *os.File
	out     *bufio.Reader
	stderr  *strings.Builder
	next    int
	session string
}

func (c chromium) devtools(t *testing.T) *devtools {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := c.command(ctx, t, "--window-size=1280,800", "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{inR, outW}
	d := &devtools{cmd: cmd, in: inW, out: bufio.NewReader(outR), stderr: &strings.Builder{}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	t.Cleanup(func() {
		inW.Close()
		outR.Close()
		if cmd.ProcessState == nil {
			cmd.Cancel()
			cmd.Wait()
		}
	})
	return d
}

// call sends one command and returns its result, skipping the events
// that come before it.
func (d *devtools) call(t *testing.T, method string, params map[string]any) json.RawMessage {
	t.Helper()
	r, err := d.try1(t, method, params)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return r
}

// try1 is call, with the error of the command returned.
func (d *devtools) try1(t *testing.T, method string, params map[string]any) (json.RawMessage, error) {
	t.Helper()
	d.next++
	msg := map[string]any{"id": d.next, "method": method, "params": params}
	if d.session != "" {
		msg["sessionId"] = d.session
	}
	b, _ := json.Marshal(msg)
	if _, err := d.in.Write(append(b, 0)); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, d.stderr.String())
	}
	for {
		raw, err := d.out.ReadBytes(0)
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, d.stderr.String())
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(raw[:len(raw)-1], &resp); err != nil {
			return nil, err
		}
		if resp.ID != d.next {
			continue // an event, or an answer to a call given up on
		}
		if resp.Error != nil {
			return nil, errors.New(resp.Error.Message)
		}
		return resp.Result, nil
	}
}

func (d *devtools) open(t *testing.T, page string) {
	t.Helper()
	var target struct{ TargetID string }
	json.Unmarshal(d.call(t, "Target.createTarget", map[string]any{"url": page}), &target)
	var attached struct{ SessionID string }
	json.Unmarshal(d.call(t, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attached)
	if attached.SessionID == "" {
		t.Fatal("no session with the page")
	}
	d.session = attached.SessionID
}

// eval evaluates a JavaScript expression in the page, as a string.
func (d *devtools) eval(t *testing.T, expr string) string {
	t.Helper()
	v, err := d.try(t, expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// try is eval, with the error returned.
func (d *devtools) try(t *testing.T, expr string) (string, error) {
	t.Helper()
	raw, err := d.try1(t, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return "", err
	}
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	json.Unmarshal(raw, &r)
	if r.ExceptionDetails != nil {
		return "", errors.New(r.ExceptionDetails.Text)
	}
	if r.Result.Value == nil {
		return "", nil
	}
	return fmt.Sprint(r.Result.Value), nil
}

// key presses and releases one key, as a keyboard does.
func (d *devtools) key(t *testing.T, key string, code int) {
	t.Helper()
	for _, typ := range []string{"keyDown", "keyUp"} {
		d.call(t, "Input.dispatchKeyEvent", map[string]any{"type": typ, "key": key, "code": key, "windowsVirtualKeyCode": code})
	}
}

// close ends the browser; messages the page logged to the console fail
// the test.
func (d *devtools) close(t *testing.T) {
	t.Helper()
	d.session = ""
	d.call(t, "Browser.close", nil)
	d.cmd.Wait()
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("the page logged: %s", line)
		}
	}
}
