package certmanager

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// /metrics answers only callers the API server authenticates and authorizes,
// as the webhook checks them with its own ServiceAccount and the shipped RBAC
// (a missing grant for TokenReviews or SubjectAccessReviews would make every
// scrape a 500): no token or a made-up one 401, a ServiceAccount without the
// shipped laminar-ha-metrics-reader role 403, one bound to it 200 with the
// webhook's series. The TLS is the webhook's serving certificate, verified
// against the installed CA for the Service's name, as a scraper can.
func stepMetricsNeedAuthorization(t *testing.T, in *install) {
	ctx := stepContext(t)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(in.ca))
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: appName + "." + namespace + ".svc", MinVersion: tls.VersionTLS12},
	}}
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", in.pod.MetricsPort)
	scrape := func(token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err, "HTTPS to /metrics, verified against the CA")
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	serviceAccount := func(name string) string {
		t.Helper()
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
		require.NoError(t, suite.Client.Create(ctx, sa))
		t.Cleanup(func() { _ = suite.Client.Delete(ctx, sa) })
		token, err := devenv.ServiceAccountToken(ctx, suite.Client, namespace, name)
		require.NoError(t, err)
		return token
	}

	code, body := scrape("")
	assert.Equal(t, http.StatusUnauthorized, code, "no token: %s", body)
	assert.NotContains(t, body, "laminar_ha_")
	// controller-runtime's filter answers a token the API server rejects with
	// 500 "Authentication failed" (its authenticator reports "invalid bearer
	// token" as an error), where kube-apiserver would say 401; either way no metrics.
	code, body = scrape("not-a-token")
	assert.Contains(t, []int{http.StatusUnauthorized, http.StatusInternalServerError}, code, "a token the API server does not know: %s", body)
	assert.NotContains(t, body, "laminar_ha_")

	code, body = scrape(serviceAccount("test-scraper-without-role"))
	assert.Equal(t, http.StatusForbidden, code, "a ServiceAccount without the role: %s", body)
	assert.NotContains(t, body, "laminar_ha_")

	reader := serviceAccount("test-scraper")
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "test-laminar-ha-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: devenv.MetricsReaderRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "test-scraper", Namespace: namespace}},
	}
	require.NoError(t, suite.Client.Create(ctx, crb))
	t.Cleanup(func() { _ = suite.Client.Delete(ctx, crb) })
	// Before the first scrape: the webhook caches a denial for 30 s.
	require.NoError(t, devenv.WaitCanGetMetrics(ctx, suite.Client, "system:serviceaccount:"+namespace+":test-scraper", 30*time.Second))
	code, body = scrape(reader)
	require.Equal(t, http.StatusOK, code, "bound to %s: %s", devenv.MetricsReaderRole, body)
	assert.Contains(t, body, "laminar_ha_admission_decisions_total{")
	assert.Contains(t, body, "controller_runtime_webhook_requests_total{")
}

// The shipped metrics RBAC: readers get /metrics and nothing else; the webhook
// may create TokenReviews and SubjectAccessReviews to check them.
func TestManifestMetricsRBAC(t *testing.T) {
	r := renderManifests(t)
	reader := one[*rbacv1.ClusterRole](t, r, devenv.MetricsReaderRole)
	assert.Equal(t, []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}, reader.Rules)
	auth := one[*rbacv1.ClusterRole](t, r, appName+"-metrics-auth")
	assert.Equal(t, []rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
	}, auth.Rules)
	b := one[*rbacv1.ClusterRoleBinding](t, r, appName+"-metrics-auth")
	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: appName + "-metrics-auth"}, b.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: appName, Namespace: namespace}}, b.Subjects)
	d := one[*appsv1.Deployment](t, r, appName)
	assert.Contains(t, d.Spec.Template.Spec.Containers[0].Args, "--metrics-secure=true",
		"explicit: a pod without in-cluster config fails instead of serving open metrics")
}
