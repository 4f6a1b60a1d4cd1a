package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Shutdown defaults.
const (
	// DefaultShutdownTimeout bounds the drain of in-flight requests. The API
	// server gives up on a webhook call after timeoutSeconds (5 in
	// deploy/manifests, 30 at most), so waiting much longer helps nobody.
	DefaultShutdownTimeout = 10 * time.Second
	// NewConnGrace is how long, once draining, a connection that has not yet sent
	// a complete request header may still send one before it is closed. Go's
	// http.Server alone would wait 5s for such a connection.
	NewConnGrace = 500 * time.Millisecond
)

// ErrDrainTimeout means in-flight requests were still running when
// ShutdownTimeout ran out; their connections were closed.
var ErrDrainTimeout = errors.New("drain timed out")

// closeWhenDraining makes every answer, once draining, ask the client to close
// its connection, so pooled keep-alive connections leave one by one, each after
// a complete exchange. (http.Server.SetKeepAlivesEnabled(false) would instead
// close every idle connection at once, failing a request a client is sending on
// one at that instant.)
func (s *Server) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// stopWhenDone waits for the stop signal (ctx) or a failure of any listener
// (failed), drains the webhook, then ends everything else (stopRest) and the
// health listener last, so readiness is reported until the end.
func (s *Server) stopWhenDone(ctx, failed context.Context, hs *http.Server, served <-chan struct{}, stopRest context.CancelFunc) error {
	var drainErr error
	select {
	case <-ctx.Done():
		drainErr = s.drain(failed, hs, served)
	case <-failed.Done():
		// Something failed: no delay, whatever is in flight still gets a chance.
		s.draining.Store(true)
		drainErr = s.shutdownWebhook(hs, served)
	}
	stopRest()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.health.Shutdown(sctx); err != nil {
		s.opts.Log.Error(err, "health server shutdown")
	}
	return drainErr
}

// drain is the graceful path: readiness off and keep-alive off at once, serve
// on for the delay, then shut the webhook listener down.
func (s *Server) drain(failed context.Context, hs *http.Server, served <-chan struct{}) error {
	// From now on each response carries "Connection: close": clients open their
	// next connection through the Service, which no longer routes here.
	s.draining.Store(true)
	s.opts.Log.Info("stop signal: readiness off, keep-alive off, still serving for the shutdown delay",
		"shutdownDelay", s.opts.ShutdownDelay.String(), "connections", s.conns.count())
	if d := s.opts.ShutdownDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-failed.Done():
			t.Stop()
		}
	}
	return s.shutdownWebhook(hs, served)
}

// shutdownWebhook closes the listener, lets in-flight requests finish within
// ShutdownTimeout, and closes idle connections and those that never sent a
// request (after NewConnGrace) instead of letting them hold the drain.
func (s *Server) shutdownWebhook(hs *http.Server, served <-chan struct{}) error {
	log := s.opts.Log
	start := time.Now()
	log.Info("draining the webhook", "connections", s.conns.count(), "shutdownTimeout", s.opts.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- hs.Shutdown(ctx) }()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			<-served
			if err != nil {
				cut := s.conns.count()
				_ = hs.Close()
				log.Error(err, "drain timed out; remaining connections were closed", "closed", cut, "after", time.Since(start).String())
				return fmt.Errorf("%w after %s: %d connections closed", ErrDrainTimeout, s.opts.ShutdownTimeout, cut)
			}
			log.Info("webhook drained", "took", time.Since(start).String())
			return nil
		case <-tick.C:
			s.conns.closeUnused(NewConnGrace)
		}
	}
}
