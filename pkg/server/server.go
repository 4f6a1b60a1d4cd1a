// Package server runs the admission webhook: TLS webhook endpoints, health and
// readiness on their own port, and Prometheus metrics on another.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
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

// Options configure the server.
type Options struct {
	// Host and Port the TLS webhook endpoint listens on.
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

	Policy admit.PolicySource
	// Namespaces reads namespace labels for the enforce/mutate switches; nil means
	// the policy's defaults apply in every namespace.
	Namespaces admit.Namespaces
	// Cluster feeds the scale, PodDisruptionBudget and autoscaler checks and the
	// cluster-aware workload rules; nil when there is no cluster access.
	Cluster rules.View
	// Background runs beside the listeners (caches, the policy watcher); an error
	// from one stops the server.
	Background []func(context.Context) error
	// ReadyChecks join the webhook check on /readyz.
	ReadyChecks map[string]healthz.Checker

	Log logr.Logger
}

// TLSConfig applies the server's TLS floor and protocol choice.
func (o Options) TLSConfig(cfg *tls.Config) {
	cfg.MinVersion = tls.VersionTLS12
	if !o.EnableHTTP2 {
		cfg.NextProtos = []string{"http/1.1"}
	}
}

// Server is a configured, not yet started webhook server.
type Server struct {
	opts    Options
	webhook webhook.Server
	health  *http.Server
	metrics metricsserver.Server
}

// New builds the server.
func New(o Options) (*Server, error) {
	if o.Policy == nil {
		return nil, errors.New("server: no policy")
	}
	ws := webhook.NewServer(webhook.Options{
		Host:     o.Host,
		Port:     o.Port,
		CertDir:  o.CertDir,
		CertName: o.CertName,
		KeyName:  o.KeyName,
		TLSOpts:  []func(*tls.Config){o.TLSConfig},
	})
	ws.Register(MutatePath, &admission.Webhook{Handler: &admit.Mutator{Policy: o.Policy, Namespaces: o.Namespaces}})
	ws.Register(ValidatePath, &admission.Webhook{Handler: &admit.Validator{Policy: o.Policy, Namespaces: o.Namespaces, Cluster: o.Cluster}})
	ws.Register(ValidateScalePath, &admission.Webhook{Handler: &admit.ScaleValidator{Policy: o.Policy, Namespaces: o.Namespaces, Cluster: o.Cluster}})
	ws.Register(ValidateRelatedPath, &admission.Webhook{Handler: &admit.RelatedValidator{Policy: o.Policy, Namespaces: o.Namespaces, Cluster: o.Cluster}})

	mux := http.NewServeMux()
	mux.Handle("/healthz", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	mux.Handle("/healthz/", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	checks := map[string]healthz.Checker{"webhook": ws.StartedChecker()}
	for name, c := range o.ReadyChecks {
		checks[name] = c
	}
	ready := &healthz.Handler{Checks: checks}
	mux.Handle("/readyz", http.StripPrefix("/readyz", ready))
	mux.Handle("/readyz/", http.StripPrefix("/readyz", ready))

	ms, err := metricsserver.NewServer(metricsserver.Options{BindAddress: o.MetricsAddr}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics server: %w", err)
	}
	return &Server{
		opts:    o,
		webhook: ws,
		health:  &http.Server{Addr: o.HealthAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		metrics: ms,
	}, nil
}

// Start runs every listener until ctx is cancelled or one of them fails.
func (s *Server) Start(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.webhook.Start(ctx) })
	for _, run := range s.opts.Background {
		g.Go(func() error { return run(ctx) })
	}
	if s.metrics != nil {
		g.Go(func() error { return s.metrics.Start(ctx) })
	}
	ln, err := net.Listen("tcp", s.opts.HealthAddr)
	if err != nil {
		return fmt.Errorf("health listener: %w", err)
	}
	g.Go(func() error {
		if err := s.health.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.health.Shutdown(shutdown)
	})
	s.opts.Log.Info("serving", "webhookPort", s.opts.Port, "healthAddr", s.opts.HealthAddr, "metricsAddr", s.opts.MetricsAddr, "http2", s.opts.EnableHTTP2)
	return g.Wait()
}
