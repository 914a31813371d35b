package dnstest

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// maxSilentConns bounds the TCP connections a silent server holds open.
const maxSilentConns = 1024

// StartSilent starts a DNS server that never answers, on one loopback port
// over UDP and TCP: UDP queries are read and dropped, TCP connections are
// accepted and held open without a reply. It is the peer of a resolver that
// hangs, for tests of timeouts and of what abandoned queries cost. The
// server stops when the test ends; it returns the host:port to query.
func StartSilent(t testing.TB) string {
	t.Helper()
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	// The UDP port is free; the same TCP port almost always is. Retry the
	// pair a few times rather than fail on the rare collision.
	for range 10 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatalf("dnstest: silent server: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			if _, _, err := pc.ReadFrom(buf); errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // out of descriptors: let them drain
				continue
			}
			mu.Lock()
			if len(conns) < maxSilentConns {
				conns = append(conns, c)
			} else {
				c.Close()
			}
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return pc.LocalAddr().String()
}
