// Package certrotation keeps the webhook's own CA and serving certificate in a
// Secret and that CA in the caBundles of its two webhook configurations, for
// clusters without cert-manager (the chart's certificates.mode selfManaged). It
// runs open-policy-agent/cert-controller's rotator, the one Gatekeeper uses, in
// a controller-runtime manager of its own: the webhook server itself is not a
// manager.
//
// Every replica runs a rotator (no leader election): the Secret's
// resourceVersion lets only one write win, and the others then find a valid
// certificate. A serving certificate is replaced by one from the same CA, so
// every caBundle stays byte for byte the same while pods still serve the old one.
package certrotation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Options name what the rotator keeps up to date.
type Options struct {
	// Secret holds ca.crt, ca.key, tls.crt and tls.key. It must exist (the
	// chart creates it empty): the webhook may update it, never create one.
	Secret types.NamespacedName
	// Service is the webhook's Service in Secret's namespace; the certificate is
	// for <service>.<namespace>.svc and its .cluster.local form.
	Service string
	// WebhookConfigurations is the name of both the mutating and the validating
	// configuration whose every caBundle gets the CA.
	WebhookConfigurations string
	// CertDir is where the Secret is mounted; readiness waits until tls.crt is there.
	CertDir, CertName, KeyName string

	CAValidity, ServingValidity time.Duration
	// RenewBefore replaces a certificate that expires within it.
	RenewBefore time.Duration
	// CheckInterval is how often expiry is looked at; a change of the Secret or
	// of a configuration is acted on at once.
	CheckInterval time.Duration
}

// Rotator is a configured rotator; Start runs it.
type Rotator struct {
	mgr   manager.Manager
	ready chan struct{}
}

// ParseSecret reads "namespace/name".
func ParseSecret(s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("want namespace/name, got %q", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

func (o Options) validate() error {
	var errs []error
	if o.Secret.Namespace == "" || o.Secret.Name == "" {
		errs = append(errs, errors.New("the Secret needs a namespace and a name"))
	}
	if o.Service == "" || o.WebhookConfigurations == "" {
		errs = append(errs, errors.New("the Service and the webhook configurations need names"))
	}
	if o.CAValidity <= 0 || o.ServingValidity <= 0 || o.RenewBefore <= 0 || o.CheckInterval <= 0 {
		errs = append(errs, errors.New("validities, renewBefore and the check interval must be positive"))
	}
	// A certificate renewed before it is even issued would be replaced on every check.
	if o.RenewBefore >= o.ServingValidity || o.RenewBefore >= o.CAValidity {
		errs = append(errs, fmt.Errorf("renewBefore %s must be shorter than both validities", o.RenewBefore))
	}
	return errors.Join(errs...)
}

// New builds the rotator on cfg; nothing talks to the API server before Start.
func New(cfg *rest.Config, o Options) (*Rotator, error) {
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("certificate rotation: %w", err)
	}
	mgr, err := manager.New(cfg, manager.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	if err != nil {
		return nil, fmt.Errorf("certificate rotation: %w", err)
	}
	r := &Rotator{mgr: mgr, ready: make(chan struct{})}
	host := o.Service + "." + o.Secret.Namespace + ".svc"
	err = rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      o.Secret,
		CertDir:        o.CertDir,
		CertName:       o.CertName,
		KeyName:        o.KeyName,
		CAName:         o.Service + "-ca",
		CAOrganization: "laminar",
		DNSName:        host,
		ExtraDNSNames:  []string{host + ".cluster.local"},
		IsReady:        r.ready,
		Webhooks: []rotator.WebhookInfo{
			{Name: o.WebhookConfigurations, Type: rotator.Mutating},
			{Name: o.WebhookConfigurations, Type: rotator.Validating},
		},
		FieldOwner:             "laminar-ha-webhook",
		ExtKeyUsages:           &[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		CaCertDuration:         o.CAValidity,
		ServerCertDuration:     o.ServingValidity,
		LookaheadInterval:      o.RenewBefore,
		RotationCheckFrequency: o.CheckInterval,
		// Inject only once this pod has the certificate it will serve.
		EnableReadinessCheck: true,
	})
	if err != nil {
		return nil, fmt.Errorf("certificate rotation: %w", err)
	}
	return r, nil
}

// Start runs the rotator until ctx ends.
func (r *Rotator) Start(ctx context.Context) error {
	if err := r.mgr.Start(ctx); err != nil {
		return fmt.Errorf("certificate rotation: %w", err)
	}
	return nil
}

// Ready is closed once the certificate is in CertDir and the CA in every caBundle.
func (r *Rotator) Ready() <-chan struct{} { return r.ready }

// ReadyChecker is a /readyz check: the API server can verify this pod only
// once both hold.
func (r *Rotator) ReadyChecker(*http.Request) error {
	select {
	case <-r.ready:
		return nil
	default:
		return errors.New("certificate not issued, mounted or injected yet")
	}
}
