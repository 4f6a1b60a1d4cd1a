// Package server runs the admission webhook: TLS webhook endpoints, health and
// readiness on their own port, and Prometheus metrics on another.
//
// Shutdown is graceful and bounded. When the context given to Start ends (the
// process got SIGTERM), /readyz fails at once while the webhook keeps answering
// for Options.ShutdownDelay, with keep-alive off so that clients reconnect
// elsewhere; then the listener closes, in-flight requests finish within
// Options.ShutdownTimeout, idle and never-used connections are closed promptly,
// and only then do the caches, the health and the metrics listeners stop.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// Paths the webhook configurations call.
const (
	MutatePath          = "/mutate"
	ValidatePath        = "/validate"
	ValidateScalePath   = "/validate-scale"
	ValidateRelatedPath = "/validate-related"
)

// Paths lists every webhook path, in the order they are registered.
var Paths = []string{MutatePath, ValidatePath, ValidateScalePath, ValidateRelatedPath}

// Handlers returns the admission handler served at each of Paths, exactly as
// the server wires them (fuzz tests drive these).
func Handlers(o Options) map[string]admission.Handler {
	c := admit.Config{Policy: o.Policy, Namespaces: o.Namespaces, Cluster: o.Cluster}
	return map[string]admission.Handler{
		MutatePath:          wellFormed(admit.NewMutator(c)),
		ValidatePath:        wellFormed(admit.NewValidator(c)),
		ValidateScalePath:   wellFormed(admit.NewScaleValidator(c)),
		ValidateRelatedPath: wellFormed(admit.NewRelatedValidator(c)),
	}
}

// wellFormed answers 400 to a review the API server never sends — no request,
// no uid, no kind or resource, an unknown operation — instead of letting a
// handler read it as "not a judged kind or operation" and allow it.
func wellFormed(next admission.Handler) admission.Handler {
	return admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		var problem string
		switch {
		case req.UID == "":
			problem = "no request.uid (is request null or missing?)"
		case req.Kind.Kind == "" || req.Kind.Version == "":
			problem = "no request.kind"
		case req.Resource.Resource == "" || req.Resource.Version == "":
			problem = "no request.resource"
		}
		if problem == "" {
			switch req.Operation {
			case admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect:
			default:
				problem = fmt.Sprintf("unknown request.operation %q", req.Operation)
			}
		}
		if problem != "" {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("malformed AdmissionReview: %s", problem))
		}
		return next.Handle(ctx, req)
	})
}

// Shutdown and connection defaults.
const (
	// DefaultShutdownTimeout bounds the drain of in-flight requests. The API
	// server gives up on a webhook call after timeoutSeconds (5 in
	// deploy/manifests, 30 at most), so waiting much longer helps nobody.
	DefaultShutdownTimeout = 10 * time.Second
	// NewConnGrace is how long, once draining, a connection that has not yet sent
	// a complete request header may still send one before it is closed. Go's
	// http.Server alone would wait 5s for such a connection.
	NewConnGrace = 500 * time.Millisecond
	// readHeaderTimeout bounds a request's headers (slowloris); the API server
	// sends them at once.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes keep-alive connections nobody uses.
	idleTimeout = 90 * time.Second
	// maxHeaderBytes: an AdmissionReview's headers are small; the body limit
	// (7 MiB) is controller-runtime's admission.Webhook's.
	maxHeaderBytes = 64 << 10
)

// Options configure the server.
type Options struct {
	// Host and Port the TLS webhook endpoint listens on. Port 0 picks a free port
	// (see Server.WebhookAddr).
	Host string
	Port int
	// CertDir holds tls.crt and tls.key; they are reloaded when they change.
	CertDir  string
	CertName string
	KeyName  string
	// HealthAddr serves /healthz and /readyz; MetricsAddr serves /metrics ("0" turns it off).
	HealthAddr  string
	MetricsAddr string
	// EnableHTTP2 offers h2 over TLS; off by default because of the HTTP/2 rapid
	// reset and stream-cancellation attacks (CVE-2023-44487, CVE-2023-39325).
	EnableHTTP2 bool
	// ShutdownDelay is how long the webhook keeps serving after the stop signal,
	// with /readyz already failing, so that Service endpoints and load balancers
	// stop routing to it first. Zero when a preStop hook already waits.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the drain of in-flight requests once the listener is
	// closed; zero means DefaultShutdownTimeout. Past it, remaining connections
	// are cut and Start returns ErrDrainTimeout.
	ShutdownTimeout time.Duration

	Policy admit.PolicySource
	// Namespaces reads namespace labels for the enforce/mutate switches; nil means
	// the policy's defaults apply in every namespace.
	Namespaces admit.Namespaces
	// Cluster feeds the scale, PodDisruptionBudget and autoscaler checks and the
	// cluster-aware workload rules; nil when there is no cluster access.
	Cluster rules.View
	// Background runs beside the listeners (caches, the policy watcher); an error
	// from one stops the server. Their context ends after the webhook has drained.
	Background []func(context.Context) error
	// ReadyChecks join the webhook check on /readyz.
	ReadyChecks map[string]healthz.Checker

	Log logr.Logger
}

// ErrDrainTimeout means in-flight requests were still running when
// ShutdownTimeout ran out; their connections were closed.
var ErrDrainTimeout = errors.New("drain timed out")

// TLSConfig applies the server's TLS floor and protocol choice.
func (o Options) TLSConfig(cfg *tls.Config) {
	cfg.MinVersion = tls.VersionTLS12
	if o.EnableHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
}

// Server is a configured, not yet started webhook server.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	health  *http.Server
	metrics metricsserver.Server

	// serving is set once the TLS listener accepts; draining from the stop
	// signal on.
	serving, draining atomic.Bool
	addr              atomic.Pointer[net.TCPAddr]
	conns             connTracker
	started           atomic.Bool
}

// New builds the server.
func New(o Options) (*Server, error) {
	if o.Policy == nil {
		return nil, errors.New("server: no policy")
	}
	if o.ShutdownDelay < 0 || o.ShutdownTimeout < 0 {
		return nil, errors.New("server: negative shutdown delay or timeout")
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.CertName == "" {
		o.CertName = "tls.crt"
	}
	if o.KeyName == "" {
		o.KeyName = "tls.key"
	}
	s := &Server{opts: o, mux: http.NewServeMux(), conns: connTracker{conns: map[net.Conn]connInfo{}}}

	// controller-runtime's webhook server is used only to register the handlers
	// on our mux: it wraps each in its controller_runtime_webhook_* metrics.
	// Serving, TLS and shutdown are ours (see Start).
	reg := webhook.NewServer(webhook.Options{WebhookMux: s.mux})
	handlers := Handlers(o)
	for _, path := range Paths {
		reg.Register(path, &admission.Webhook{Handler: handlers[path]})
	}

	mux := http.NewServeMux()
	alive := &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}
	mux.Handle("/healthz", http.StripPrefix("/healthz", alive))
	mux.Handle("/healthz/", http.StripPrefix("/healthz", alive))
	checks := map[string]healthz.Checker{"webhook": s.webhookChecker, "shutdown": s.shutdownChecker}
	for name, c := range o.ReadyChecks {
		checks[name] = c
	}
	ready := &healthz.Handler{Checks: checks}
	mux.Handle("/readyz", http.StripPrefix("/readyz", ready))
	mux.Handle("/readyz/", http.StripPrefix("/readyz", ready))
	s.health = &http.Server{Addr: o.HealthAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ms, err := metricsserver.NewServer(metricsserver.Options{BindAddress: o.MetricsAddr}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics server: %w", err)
	}
	s.metrics = ms
	return s, nil
}

// WebhookAddr is the TLS listener's address once Start has bound it, else nil.
func (s *Server) WebhookAddr() *net.TCPAddr { return s.addr.Load() }

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

// Start runs every listener until ctx is cancelled (then shuts down gracefully,
// see the package doc) or one of them fails (then stops at once).
func (s *Server) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("server: already started")
	}
	log := s.opts.Log
	// Everything but the webhook listener runs on runCtx, which outlives ctx by
	// the shutdown delay and the drain: requests still being answered need the
	// caches, and readiness must be reported until the end.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()

	cw, err := certwatcher.New(filepath.Join(s.opts.CertDir, s.opts.CertName), filepath.Join(s.opts.CertDir, s.opts.KeyName))
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	cw.RegisterCallback(func(c tls.Certificate) { logCertificate(log, c) })
	cfg := &tls.Config{GetCertificate: cw.GetCertificate, MinVersion: tls.VersionTLS12}
	s.opts.TLSConfig(cfg)

	webhookLn, err := net.Listen("tcp", net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port)))
	if err != nil {
		return fmt.Errorf("webhook listener: %w", err)
	}
	healthLn, err := net.Listen("tcp", s.opts.HealthAddr)
	if err != nil {
		_ = webhookLn.Close()
		return fmt.Errorf("health listener: %w", err)
	}
	if a, ok := webhookLn.Addr().(*net.TCPAddr); ok {
		s.addr.Store(a)
	}
	// While draining, every answer asks the client to close its connection, so
	// pooled keep-alive connections leave one by one, each after a complete
	// exchange. (http.Server.SetKeepAlivesEnabled(false) would instead close
	// every idle connection at once, failing a request a client is sending on
	// one at that instant.)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		s.mux.ServeHTTP(w, r)
	})
	hs := &http.Server{
		Handler:           handler,
		TLSConfig:         cfg,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         s.conns.track,
		ErrorLog:          stdlog.New(httpErrorLog{log}, "", 0),
		// Requests see runCtx: a request in flight while draining is not cancelled.
		BaseContext: func(net.Listener) context.Context { return runCtx },
	}

	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error {
		if err := cw.Start(gctx); err != nil {
			// The poll still reloads when the files change; only the inotify
			// shortcut is missing.
			log.Error(err, "certificate watcher")
		}
		return nil
	})
	served := make(chan struct{})
	g.Go(func() error {
		defer close(served)
		s.serving.Store(true)
		if err := hs.Serve(tls.NewListener(webhookLn, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("webhook server: %w", err)
		}
		return nil
	})
	for _, run := range s.opts.Background {
		g.Go(func() error { return run(gctx) })
	}
	if s.metrics != nil {
		g.Go(func() error { return s.metrics.Start(gctx) })
	}
	g.Go(func() error {
		if err := s.health.Serve(healthLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("health server: %w", err)
		}
		return nil
	})
	// The conductor: waits for the stop signal or a failure, drains the webhook,
	// then ends everything else.
	g.Go(func() error {
		var drainErr error
		select {
		case <-ctx.Done():
			drainErr = s.drain(gctx, hs, served)
		case <-gctx.Done():
			// Something failed: no delay, whatever is in flight still gets a chance.
			s.draining.Store(true)
			drainErr = s.shutdownWebhook(hs, served)
		}
		cancelRun()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.health.Shutdown(sctx); err != nil {
			log.Error(err, "health server shutdown")
		}
		return drainErr
	})
	log.Info("serving", "webhookAddr", webhookLn.Addr().String(), "healthAddr", healthLn.Addr().String(),
		"metricsAddr", s.opts.MetricsAddr, "http2", s.opts.EnableHTTP2,
		"shutdownDelay", s.opts.ShutdownDelay.String(), "shutdownTimeout", s.opts.ShutdownTimeout.String())
	err = g.Wait()
	if err == nil {
		log.Info("shut down cleanly")
	}
	return err
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

// logCertificate logs the serving certificate that will be served from now on.
func logCertificate(log logr.Logger, c tls.Certificate) {
	leaf := c.Leaf
	if leaf == nil && len(c.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	if leaf == nil {
		return
	}
	log.Info("serving certificate loaded", "serial", leaf.SerialNumber.String(), "subject", leaf.Subject.String(),
		"dnsNames", leaf.DNSNames, "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339))
}

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

// httpErrorLog sends http.Server's own messages (TLS handshake failures, bad
// requests) to the structured log. A handshake that ends in EOF is a client
// that connected and left (a TCP probe, a port scan) and is logged at debug;
// any other handshake error, such as a client that does not trust the serving
// certificate (a wrong caBundle), at info.
type httpErrorLog struct{ log logr.Logger }

func (w httpErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") && strings.HasSuffix(msg, ": EOF") {
		w.log.V(1).Info("webhook connection closed during the TLS handshake", "detail", msg)
	} else {
		w.log.Info("webhook listener", "detail", msg)
	}
	return len(p), nil
}
