package devenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The webhook serves /metrics only to callers the API server authenticates and
// authorizes. devenv scrapes it as a Prometheus would: with the token of a
// ServiceAccount bound to the shipped ClusterRole.
const (
	// MetricsReader is that ServiceAccount, in Namespace (devenv's own; a
	// cluster install binds its Prometheus' account instead).
	MetricsReader = "laminar-ha-metrics-scraper"
	// MetricsReaderRole is the ClusterRole deploy/manifests/metrics.yaml ships.
	MetricsReaderRole = "laminar-ha-metrics-reader"
)

// installMetricsReader creates MetricsReader, binds it to MetricsReaderRole and
// waits until the API server's authorizer says so: the webhook caches a denial
// for 30 s, so a scrape that raced the binding would fail for that long.
func (e *Env) installMetricsReader(ctx context.Context) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: MetricsReader, Namespace: Namespace}}
	if err := e.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("ServiceAccount %s: %w", MetricsReader, err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: MetricsReader},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: MetricsReaderRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: MetricsReader, Namespace: Namespace}},
	}
	if err := createOrReplace(ctx, e.Client, crb); err != nil {
		return fmt.Errorf("ClusterRoleBinding %s: %w", MetricsReader, err)
	}
	return WaitCanGetMetrics(ctx, e.Client, "system:serviceaccount:"+Namespace+":"+MetricsReader, e.opts.ReadyTimeout)
}

// WaitCanGetMetrics polls a SubjectAccessReview until user may get /metrics.
func WaitCanGetMetrics(ctx context.Context, c client.Client, user string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:                  user,
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		}}
		if err := c.Create(ctx, sar); err != nil {
			return fmt.Errorf("SubjectAccessReview for %s: %w", user, err)
		}
		if sar.Status.Allowed {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s may still not get /metrics: %w", user, ctx.Err())
		case <-tick.C:
		}
	}
}

// ServiceAccountToken asks the API server for a token of a ServiceAccount (TokenRequest), valid for an hour.
func ServiceAccountToken(ctx context.Context, c client.Client, namespace, name string) (string, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("token for %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// MetricsURL is the webhook's /metrics.
func (e *Env) MetricsURL() string { return fmt.Sprintf("https://127.0.0.1:%d/metrics", e.MetricsPort) }

// MetricsClient is an HTTPS client for /metrics that verifies the webhook's
// certificate against this run's CA, for the name the API server verifies too.
func (e *Env) MetricsClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.Certs.CACert)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: ServiceHost, MinVersion: tls.VersionTLS12},
	}}
}

// Metrics scrapes /metrics as MetricsReader and returns the exposition text.
func (e *Env) Metrics(ctx context.Context) (string, error) {
	token, err := ServiceAccountToken(ctx, e.Client, Namespace, MetricsReader)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.MetricsURL(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.MetricsClient().Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New("GET " + e.MetricsURL() + ": " + resp.Status + ": " + string(body))
	}
	return string(body), nil
}
