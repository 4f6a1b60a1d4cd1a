package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kubectlIn runs kubectl with manifest on its standard input.
func kubectlIn(t *testing.T, manifest string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	stdout, stderr, err = env.Kubectl(testContext(t), strings.NewReader(manifest), args...)
	t.Logf("kubectl %s\n--- stdin\n%s--- stdout\n%s--- stderr\n%s--- err: %v", strings.Join(args, " "), manifest, stdout, stderr, err)
	return stdout, stderr, err
}

func apiServiceYAML(name, typ, affinity string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %s
spec:
  type: %s
  sessionAffinity: %s
  selector:
    app: laminar-api
  ports:
    - name: http
      port: 8000
      targetPort: 8000
`, name, typ, affinity)
}

func ingressYAML(name, class, backend string, annotations map[string]string) string {
	var a strings.Builder
	if len(annotations) > 0 {
		a.WriteString("  annotations:\n")
		for k, v := range annotations {
			fmt.Fprintf(&a, "    %s: %q\n", k, v)
		}
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
%sspec:
  ingressClassName: %s
  rules:
    - host: laminar.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: %s
                port:
                  number: 8000
`, name, a.String(), class, backend)
}

// The api's Service: ClientIP affinity is denied, a NodePort warned of, the
// guide's ClusterIP with no affinity admitted silently; a Service of other
// pods is not judged.
func TestAPIService(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	mustKubectl(t, "apply", "-n", ns, "-f", example("api-good.yaml"))

	// The webhook finds the api's pods through its cache, which may lag the
	// API server by a moment: wait for the denial on a dry run.
	sticky := apiServiceYAML("laminar-api", "ClusterIP", "ClientIP")
	var stderr string
	var err error
	require.Eventually(t, func() bool {
		_, stderr, err = kubectlIn(t, sticky, "apply", "-n", ns, "--dry-run=server", "-f", "-")
		return err != nil && strings.Contains(stderr, "[api-service-session-affinity]")
	}, 15*time.Second, 100*time.Millisecond, "never denied; last: %s", stderr)

	_, stderr, err = kubectlIn(t, sticky, "apply", "-n", ns, "-f", "-")
	require.Error(t, err, "kubectl apply must fail")
	assert.Contains(t, stderr, `The Service "laminar-api" is invalid: spec.sessionAffinity: Invalid value: "ClientIP": [api-service-session-affinity]`)

	_, stderr, err = kubectlIn(t, apiServiceYAML("laminar-api-nodeport", "NodePort", "None"), "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: spec.type: [api-service-type] ")

	_, stderr, err = kubectlIn(t, apiServiceYAML("laminar-api", "ClusterIP", "None"), "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "Warning")

	other := strings.Replace(apiServiceYAML("web", "NodePort", "ClientIP"), "app: laminar-api", "app: web", 1)
	_, stderr, err = kubectlIn(t, other, "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, "a Service of other pods is not judged: %s", stderr)
	assert.NotContains(t, stderr, "Warning")
}

// A Service applied before the api is judged when the api arrives: the
// Service's write saw no Laminar pods, the api's create is denied with the
// Service's message.
func TestAPIServiceBeforeTheAPI(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	_, stderr, err := kubectlIn(t, apiServiceYAML("laminar-api", "ClusterIP", "ClientIP"), "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, "no api pods yet: nothing to judge the Service against: %s", stderr)
	require.Eventually(t, func() bool {
		_, stderr, err = kubectl(t, "apply", "-n", ns, "--dry-run=server", "-f", example("api-good.yaml"))
		return err != nil && strings.Contains(stderr, "[api-service-session-affinity]")
	}, 15*time.Second, 100*time.Millisecond, "never denied; last: %s", stderr)
	_, stderr, err = kubectl(t, "apply", "-n", ns, "-f", example("api-good.yaml"))
	require.Error(t, err)
	assert.Contains(t, stderr, `spec.template.metadata.labels: Invalid value: "ClientIP": [api-service-session-affinity] Service laminar-api spec.sessionAffinity: `)
}

// An Ingress served by the AWS Load Balancer Controller in front of the api
// gets the guide's health check on CREATE, seen by a server-side dry run; an
// explicit choice stays; a second client-side apply is unchanged and a
// second server-side apply writes nothing; NGINX Ingresses are not patched.
func TestAPIIngressALB(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	ctx := testContext(t)
	// IngressClasses are cluster-wide: one of the ALB's controller per test,
	// named after its namespace.
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"}}
	require.NoError(t, env.Client.Create(ctx, class))
	mustKubectl(t, "apply", "-n", ns, "-f", example("api-good.yaml"))
	_, stderr, err := kubectlIn(t, apiServiceYAML("laminar-api", "ClusterIP", "None"), "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)

	const pathKey, intervalKey = "alb.ingress.kubernetes.io/healthcheck-path", "alb.ingress.kubernetes.io/healthcheck-interval-seconds"
	plain := ingressYAML("laminar-api", ns, "laminar-api", nil)
	var out string
	require.Eventually(t, func() bool {
		out, _, err = kubectlIn(t, plain, "apply", "-n", ns, "--dry-run=server", "-o", "yaml", "-f", "-")
		return err == nil && strings.Contains(out, pathKey+": /health")
	}, 15*time.Second, 100*time.Millisecond, "the dry run never showed the health check; last:\n%s", out)
	assert.Contains(t, out, intervalKey+`: "15"`)

	stdout, stderr, err := kubectlIn(t, plain, "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "created")
	assert.NotContains(t, stderr, "Warning")
	got := &networkingv1.Ingress{}
	key := client.ObjectKey{Namespace: ns, Name: "laminar-api"}
	require.NoError(t, env.Client.Get(ctx, key, got))
	assert.Equal(t, "/health", got.Annotations[pathKey])
	assert.Equal(t, "15", got.Annotations[intervalKey])

	stdout, stderr, err = kubectlIn(t, plain, "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "unchanged", "the added annotations are no drift to client-side apply")
	again := &networkingv1.Ingress{}
	require.NoError(t, env.Client.Get(ctx, key, again))
	assert.Equal(t, got.ResourceVersion, again.ResourceVersion)

	// An explicit path stays (and is one the api answers: no warning); the
	// interval is filled beside it.
	own := ingressYAML("laminar-api-own", ns, "laminar-api", map[string]string{pathKey: "/ready"})
	_, stderr, err = kubectlIn(t, own, "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "Warning")
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "laminar-api-own"}, got))
	assert.Equal(t, "/ready", got.Annotations[pathKey])
	assert.Equal(t, "15", got.Annotations[intervalKey])

	// A path the api does not answer is kept, and warned of.
	root := ingressYAML("laminar-api-root", ns, "laminar-api", map[string]string{pathKey: "/"})
	_, stderr, err = kubectlIn(t, root, "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "Warning: metadata.annotations: [api-alb-healthcheck-path] ")

	// Server-side apply: the webhook's keys come back on every apply, no
	// conflict, and the second apply writes nothing.
	ssa := ingressYAML("laminar-api-ssa", ns, "laminar-api", nil)
	args := []string{"apply", "-n", ns, "--server-side", "--field-manager=e2e", "-f", "-"}
	_, stderr, err = kubectlIn(t, ssa, args...)
	require.NoError(t, err, stderr)
	ssaKey := client.ObjectKey{Namespace: ns, Name: "laminar-api-ssa"}
	require.NoError(t, env.Client.Get(ctx, ssaKey, got))
	assert.Equal(t, "/health", got.Annotations[pathKey])
	_, stderr, err = kubectlIn(t, ssa, args...)
	require.NoError(t, err, stderr)
	require.NoError(t, env.Client.Get(ctx, ssaKey, again))
	assert.Equal(t, got.ResourceVersion, again.ResourceVersion, "second server-side apply must not write")
	assert.Equal(t, "/health", again.Annotations[pathKey])

	// NGINX: the guide's upstream-hash-by is not filled in (docs/rules.md says why).
	nginx := ingressYAML("laminar-api-nginx", "nginx", "laminar-api", nil)
	_, stderr, err = kubectlIn(t, nginx, "apply", "-n", ns, "-f", "-")
	require.NoError(t, err, stderr)
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "laminar-api-nginx"}, got))
	assert.Empty(t, got.Annotations[pathKey])
	assert.NotContains(t, got.Annotations, "nginx.ingress.kubernetes.io/upstream-hash-by")
}
