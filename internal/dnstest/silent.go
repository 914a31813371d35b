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
	pc, ln, err := listenPair()
	if err != nil {
		t.Fatalf("dnstest: silent server: %v", err)
	}
	var s silent
	s.wg.Add(2)
	go s.drain(pc)
	go s.hold(ln)
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		s.wg.Wait()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	return pc.LocalAddr().String()
}

// listenPair listens on UDP and TCP on one loopback port. The UDP port is
// free; the same TCP port almost always is: the pair is retried a few
// times rather than fail on the rare collision.
func listenPair() (pc net.PacketConn, ln net.Listener, err error) {
	for range 10 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, nil, err
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			return pc, ln, nil
		}
		pc.Close()
	}
	return nil, nil, err
}

// silent is a server that reads and holds everything and answers nothing.
type silent struct {
	mu    sync.Mutex
	conns []net.Conn // held open, at most maxSilentConns
	wg    sync.WaitGroup
}

// drain reads and drops datagrams until pc is closed.
func (s *silent) drain(pc net.PacketConn) {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		if _, _, err := pc.ReadFrom(buf); errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// hold accepts connections and keeps them open, silent, until ln is
// closed.
func (s *silent) hold(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of descriptors: let them drain
			continue
		}
		s.mu.Lock()
		if len(s.conns) < maxSilentConns {
			s.conns = append(s.conns, c)
		} else {
			c.Close()
		}
		s.mu.Unlock()
	}
}
