package server

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connTracker knows each webhook connection's state, to close those that hold a
// drain without a request in flight.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]connInfo
}

type connInfo struct {
	state http.ConnState
	since time.Time
}

func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch st {
	case http.StateHijacked, http.StateClosed:
		delete(t.conns, c)
	default:
		t.conns[c] = connInfo{state: st, since: time.Now()}
	}
}

func (t *connTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// closeUnused closes connections that have been new (accepted, maybe shaking
// hands, no complete request header) for longer than grace. http.Server's
// Shutdown closes idle keep-alive connections itself but would wait 5s for these.
func (t *connTracker) closeUnused(grace time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, info := range t.conns {
		if info.state == http.StateNew && time.Since(info.since) > grace {
			_ = c.Close()
			delete(t.conns, c)
		}
	}
}
