package daemon

import (
	"net"
	"sync"
)

// ConnsPerInFlight is how many client connections NewListener allows per
// request slot of MaxInFlight: room for idle keep-alive connections of
// engines and for connections their clients have closed but the server has
// not yet torn down, while every descriptor the daemon holds stays bounded.
const ConnsPerInFlight = 4

// NewListener returns ln accepting at most n connections open at once;
// beyond, Accept waits for one to close and new connections queue in the
// kernel's backlog. A server cannot stop peers from connecting, so without
// such a bound, clients that open connections faster than closed ones are
// torn down would decide how many descriptors the daemon holds.
func NewListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close closes the listener and releases Accept calls waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn frees its listener slot when closed, once.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
