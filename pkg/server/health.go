package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// healthHandler serves /healthz (the process is alive) and /readyz (the
// webhook serves TLS, is not shutting down, and every extra check passes).
func (s *Server) healthHandler(extra map[string]healthz.Checker) http.Handler {
	mux := http.NewServeMux()
	alive := &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}
	mux.Handle("/healthz", http.StripPrefix("/healthz", alive))
	mux.Handle("/healthz/", http.StripPrefix("/healthz", alive))
	checks := map[string]healthz.Checker{"webhook": s.webhookChecker, "shutdown": s.shutdownChecker}
	for name, c := range extra {
		checks[name] = c
	}
	ready := &healthz.Handler{Checks: checks}
	mux.Handle("/readyz", http.StripPrefix("/readyz", ready))
	mux.Handle("/readyz/", http.StripPrefix("/readyz", ready))
	return mux
}

// shutdownChecker fails from the stop signal on, so endpoints drop the pod.
func (s *Server) shutdownChecker(*http.Request) error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	return nil
}

// webhookChecker passes once the TLS endpoint completes a handshake with the
// loaded certificate.
func (s *Server) webhookChecker(req *http.Request) error {
	addr := s.addr.Load()
	if !s.serving.Load() || addr == nil {
		return errors.New("webhook server is not serving yet")
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: 5 * time.Second},
		Config:    &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}, //nolint:gosec // a self-check of our own listener
	}
	conn, err := d.DialContext(req.Context(), "tcp", net.JoinHostPort(host, strconv.Itoa(addr.Port)))
	if err != nil {
		return fmt.Errorf("webhook server is not reachable: %w", err)
	}
	return conn.Close()
}
