package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"github.com/go-logr/logr"
)

// TLSConfig applies the server's TLS floor and protocol choice.
func (o Options) TLSConfig(cfg *tls.Config) {
	cfg.MinVersion = tls.VersionTLS12
	if o.EnableHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
}

// metricsTLS is /metrics' TLS with MetricsAuth: the webhook's serving
// certificate, not the self-signed one controller-runtime would make up. A
// scraper can then verify it (the CA that signed it, the Service's name), so
// the bearer token it sends reaches this process and no one in between; it
// rotates with the webhook's, and no second certificate has to be issued.
// Same floor and protocols as the webhook: controller-runtime offers h2 here
// by default, which the webhook port refuses for its rapid-reset attacks.
func (s *Server) metricsTLS(cfg *tls.Config) {
	s.opts.TLSConfig(cfg)
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cw := s.cert.Load()
		if cw == nil {
			return nil, errors.New("no serving certificate loaded yet")
		}
		return cw.GetCertificate(hello)
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
