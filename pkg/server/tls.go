package server

import (
	"crypto/tls"
	"crypto/x509"
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
