// Package server runs the admission webhook: TLS webhook endpoints, health and
// readiness on their own port, and Prometheus metrics on another.
//
// Shutdown is graceful and bounded. When the context given to Start ends (the
// process got SIGTERM), /readyz fails at once while the webhook keeps answering
// for Options.ShutdownDelay, with keep-alive off so that clients reconnect
// elsewhere; then the listener closes, in-flight requests finish within
// Options.ShutdownTimeout, idle and never-used connections are closed promptly,
// and only then do the caches, the health and the metrics listeners stop.
//
// Wiring is in server.go, the webhook paths and handlers in handlers.go,
// /healthz and /readyz in health.go, the drain in shutdown.go and the
// connection bookkeeping it needs in conntrack.go.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/review"
	"github.com/laminar/ha-webhook/pkg/rules"
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
	// MetricsAuth, when set, makes /metrics HTTPS with the webhook's own serving
	// certificate, answered only to callers the API server at MetricsAuth
	// authenticates (TokenReview of the bearer token: 401 otherwise) and
	// authorizes for get on the non-resource URL /metrics (SubjectAccessReview:
	// 403 otherwise). Nil serves plain HTTP to whoever reaches MetricsAddr.
	MetricsAuth *rest.Config
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
	// Nodes tells the schedulable nodes; nil when there is no cluster access.
	Nodes admit.NodeSource
	// Access asks the API server what a requesting user may do (granting
	// exemptions); nil when there is no cluster access, and then no exemption
	// that needs the permission is granted.
	Access admit.AccessReviewer
	// Background runs beside the listeners (caches, the policy watcher); an error
	// from one stops the server. Their context ends after the webhook has drained.
	Background []func(context.Context) error
	// ReadyChecks join the webhook check on /readyz.
	ReadyChecks map[string]healthz.Checker
	// CertsReady, when set, holds the webhook listener back until it is closed:
	// a webhook that issues its own certificate (pkg/certrotation) starts with an
	// empty CertDir, and meanwhile /healthz must answer, or the kubelet would
	// restart the pod before the certificate reaches its volume. Nil: the
	// certificate must be there at Start.
	CertsReady <-chan struct{}

	Log logr.Logger
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
	// cert serves the webhook's certificate, and /metrics' with MetricsAuth.
	cert    atomic.Pointer[certwatcher.CertWatcher]
	conns   connTracker
	limits  *limiter
	started atomic.Bool
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
	s := &Server{opts: o, mux: http.NewServeMux(), conns: connTracker{conns: map[net.Conn]connInfo{}},
		limits: newLimiter(MaxReviewBytes, maxBufferedBytes, judgeBytes, maxConcurrentReviews, WriteTimeout)}

	// controller-runtime's webhook server is used only to register the handlers
	// on our mux: it wraps each in its controller_runtime_webhook_* metrics.
	// Serving, TLS and shutdown are ours (see Start); so is reading the review
	// (pkg/review), for everything controller-runtime would read the same way.
	reg := webhook.NewServer(webhook.Options{WebhookMux: s.mux})
	handlers := Handlers(o)
	for _, path := range Paths {
		reg.Register(path, &review.Handler{Webhook: &admission.Webhook{Handler: handlers[path], LogConstructor: review.LogConstructor}, Objects: ObjectsDecodedInPass(path)})
	}

	s.health = &http.Server{Addr: o.HealthAddr, Handler: s.healthHandler(o.ReadyChecks), ReadHeaderTimeout: 5 * time.Second}

	mo := metricsserver.Options{BindAddress: o.MetricsAddr}
	var hc *http.Client
	if o.MetricsAuth != nil && o.MetricsAddr != "0" {
		var err error
		if hc, err = rest.HTTPClientFor(o.MetricsAuth); err != nil {
			return nil, fmt.Errorf("metrics authentication client: %w", err)
		}
		mo.SecureServing = true
		mo.FilterProvider = filters.WithAuthenticationAndAuthorization
		mo.TLSOpts = []func(*tls.Config){s.metricsTLS}
	}
	ms, err := metricsserver.NewServer(mo, o.MetricsAuth, hc)
	if err != nil {
		return nil, fmt.Errorf("metrics server: %w", err)
	}
	s.metrics = ms
	return s, nil
}

// WebhookAddr is the TLS listener's address once Start has bound it, else nil.
func (s *Server) WebhookAddr() *net.TCPAddr { return s.addr.Load() }

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

	var cw *certwatcher.CertWatcher
	if s.opts.CertsReady == nil {
		var err error
		if cw, err = s.loadCert(); err != nil {
			return err
		}
	}
	cfg := &tls.Config{GetCertificate: s.getCertificate, MinVersion: tls.VersionTLS12}
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
	// Timeouts and limits: limits.go.
	hs := &http.Server{
		Handler:           s.closeWhenDraining(s.limits.wrap(s.mux)),
		TLSConfig:         cfg,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         s.conns.track,
		ErrorLog:          stdlog.New(httpErrorLog{log}, "", 0),
		// Requests see runCtx: a request in flight while draining is not cancelled.
		BaseContext: func(net.Listener) context.Context { return runCtx },
	}

	g, gctx := errgroup.WithContext(runCtx)
	served := make(chan struct{})
	g.Go(func() error {
		defer close(served)
		if cw == nil {
			select {
			case <-s.opts.CertsReady:
			case <-ctx.Done():
				return nil
			case <-gctx.Done():
				return nil
			}
			var err error
			if cw, err = s.loadCert(); err != nil {
				return err
			}
		}
		g.Go(func() error {
			if err := cw.Start(gctx); err != nil {
				// The poll still reloads when the files change; only the inotify
				// shortcut is missing.
				log.Error(err, "certificate watcher")
			}
			return nil
		})
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
	g.Go(func() error { return s.stopWhenDone(ctx, gctx, hs, served, cancelRun) })
	log.Info("serving", "webhookAddr", webhookLn.Addr().String(), "healthAddr", healthLn.Addr().String(),
		"metricsAddr", s.opts.MetricsAddr, "metricsSecure", s.opts.MetricsAuth != nil, "http2", s.opts.EnableHTTP2,
		"shutdownDelay", s.opts.ShutdownDelay.String(), "shutdownTimeout", s.opts.ShutdownTimeout.String())
	err = g.Wait()
	if err == nil {
		log.Info("shut down cleanly")
	}
	return err
}

// loadCert reads the serving certificate and watches its files from now on.
func (s *Server) loadCert() (*certwatcher.CertWatcher, error) {
	cw, err := certwatcher.New(filepath.Join(s.opts.CertDir, s.opts.CertName), filepath.Join(s.opts.CertDir, s.opts.KeyName))
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	log := s.opts.Log
	cw.RegisterCallback(func(c tls.Certificate) { logCertificate(log, c) })
	s.cert.Store(cw)
	return cw, nil
}

// getCertificate serves the watched certificate; none is loaded only while
// CertsReady holds the listener back, when no handshake can reach it.
func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cw := s.cert.Load()
	if cw == nil {
		return nil, errors.New("no serving certificate loaded yet")
	}
	return cw.GetCertificate(hello)
}
