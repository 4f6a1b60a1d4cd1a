package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// ctx bounds one test's API calls.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// warnings collects the Warning headers the API server returns.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, code int, agent string, text string) {
	w.HandleWarningHeader(code, agent, text)
}

// Take returns the warnings seen since the last Take and forgets them.
func (w *warnings) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// newClient is an admin client whose warnings the test can read.
func newClient(t *testing.T) (client.Client, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandlerWithContext = w
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	require.NoError(t, err)
	return c, w
}

var nsUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// newNamespace creates a fresh namespace for one test. envtest runs no
// namespace controller, so namespaces are not deleted; the whole control plane
// goes away after the suite.
func newNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	prefix := nsUnsafe.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   strings.Trim(prefix, "-") + "-" + rand.String(5),
		Labels: labels,
	}}
	require.NoError(t, env.Client.Create(testContext(t), ns))
	return ns.Name
}

// newHANamespace is newNamespace with the PodDisruptionBudgets of
// testdata/pdbs.yaml, once the webhook's cache has them: a compliant workload
// created there gets no [pdb-missing] warning.
func newHANamespace(t *testing.T) string {
	t.Helper()
	ns := newNamespace(t, nil)
	ctx := testContext(t)
	for _, o := range readObjects(t, testdata("pdbs.yaml")) {
		o.SetNamespace(ns)
		require.NoError(t, env.Client.Create(ctx, o))
	}
	c, warns := newClient(t)
	require.Eventually(t, func() bool {
		d := loadDeployment(t, example("api-good.yaml"), ns)
		d.Name = "pdb-probe"
		warns.Take()
		if err := c.Create(ctx, d, client.DryRunAll); err != nil {
			return false
		}
		for _, w := range warns.Take() {
			if strings.Contains(w, "[pdb-missing]") {
				return false
			}
		}
		return true
	}, 15*time.Second, 50*time.Millisecond, "the webhook never saw the budgets in %s", ns)
	return ns
}

// fixture paths: test data of this suite, and the user-facing examples.
func testdata(name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return p
}
func example(name string) string { return filepath.Join(env.RepoRoot, "examples", name) }

func readObjects(t *testing.T, path string) []client.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	objs, err := devenv.DecodeObjects(data)
	require.NoError(t, err, path)
	return objs
}

func readObject(t *testing.T, path string) client.Object {
	t.Helper()
	objs := readObjects(t, path)
	require.Len(t, objs, 1, "%s must hold one object", path)
	return objs[0]
}

func loadDeployment(t *testing.T, path, ns string) *appsv1.Deployment {
	t.Helper()
	d, ok := readObject(t, path).(*appsv1.Deployment)
	require.True(t, ok, "%s must be a Deployment", path)
	d.Namespace = ns
	return d
}

func loadStatefulSet(t *testing.T, path, ns string) *appsv1.StatefulSet {
	t.Helper()
	s, ok := readObject(t, path).(*appsv1.StatefulSet)
	require.True(t, ok, "%s must be a StatefulSet", path)
	s.Namespace = ns
	return s
}

// loadUnstructured reads a fixture for server-side apply.
func loadUnstructured(t *testing.T, path, ns string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(data, &u.Object))
	u.SetNamespace(ns)
	return u
}

var ruleTag = regexp.MustCompile(`\[([a-z0-9-]+)\]`)

// groups of the kinds the webhook denies.
var groups = map[string]string{
	"Deployment": "apps", "StatefulSet": "apps",
	"PodDisruptionBudget": "policy", "HorizontalPodAutoscaler": "autoscaling",
}

// requireDenied asserts err is the webhook's 422 Invalid answer for kind/name and
// that its causes are exactly want: field path -> rule ID.
func requireDenied(t *testing.T, err error, kind, name string, want map[string]string) {
	t.Helper()
	require.Error(t, err, "want a denial")
	var st *apierrors.StatusError
	require.True(t, errors.As(err, &st), "want an API status error, got %T: %v", err, err)
	s := st.ErrStatus
	require.Equal(t, int32(422), s.Code, "status code; error: %v", err)
	require.Equal(t, metav1.StatusReasonInvalid, s.Reason, "reason; error: %v", err)
	assert.Contains(t, s.Message, `admission webhook "validate`, "denied by our webhook, not by built-in validation")
	require.NotNil(t, s.Details, "details")
	assert.Equal(t, groups[kind], s.Details.Group)
	assert.Equal(t, kind, s.Details.Kind)
	assert.Equal(t, name, s.Details.Name)
	got := map[string]string{}
	for _, c := range s.Details.Causes {
		assert.True(t, strings.HasPrefix(string(c.Type), "FieldValue"), "cause type of %s: %s", c.Field, c.Type)
		m := ruleTag.FindStringSubmatch(c.Message)
		require.NotNil(t, m, "cause %s has no [rule-id]: %q", c.Field, c.Message)
		_, dup := got[c.Field]
		require.False(t, dup, "two causes for %s", c.Field)
		got[c.Field] = m[1]
	}
	require.Equal(t, want, got, "causes (field -> rule); error: %v", err)
}

// requireWarning asserts one warning starts with prefix (field and [rule-id]).
func requireWarning(t *testing.T, got []string, prefix string) {
	t.Helper()
	for _, w := range got {
		if strings.HasPrefix(w, prefix) {
			return
		}
	}
	require.Failf(t, "warning missing", "want a warning starting with %q, got %q", prefix, got)
}

func requireNotFound(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	err := c.Get(testContext(t), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
	require.True(t, apierrors.IsNotFound(err), "want NotFound for %s, got %v", client.ObjectKeyFromObject(obj), err)
}

func container(t *testing.T, spec *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	require.FailNow(t, "no container "+name)
	return nil
}

// assertAPIDefaults checks every HA default the mutating webhook fills into an api
// Deployment; podLabels is what its selectors must match.
func assertAPIDefaults(t *testing.T, d *appsv1.Deployment, podLabels map[string]string) {
	t.Helper()
	s := d.Spec.Strategy
	assert.Equal(t, appsv1.RollingUpdateDeploymentStrategyType, s.Type, "strategy type")
	if assert.NotNil(t, s.RollingUpdate, "rollingUpdate") {
		assert.Equal(t, intstr.FromInt32(0), *s.RollingUpdate.MaxUnavailable, "maxUnavailable")
		assert.Equal(t, intstr.FromInt32(1), *s.RollingUpdate.MaxSurge, "maxSurge")
	}
	spec := d.Spec.Template.Spec
	if assert.NotNil(t, spec.Affinity) && assert.NotNil(t, spec.Affinity.PodAntiAffinity) {
		pref := spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		if assert.Len(t, pref, 1, "preferred anti-affinity") {
			assert.Equal(t, int32(100), pref[0].Weight)
			assert.Equal(t, "kubernetes.io/hostname", pref[0].PodAffinityTerm.TopologyKey)
			assert.Equal(t, &metav1.LabelSelector{MatchLabels: podLabels}, pref[0].PodAffinityTerm.LabelSelector)
		}
	}
	if assert.Len(t, spec.TopologySpreadConstraints, 1, "topology spread") {
		tsc := spec.TopologySpreadConstraints[0]
		assert.Equal(t, "topology.kubernetes.io/zone", tsc.TopologyKey)
		assert.Equal(t, int32(1), tsc.MaxSkew)
		assert.Equal(t, corev1.DoNotSchedule, tsc.WhenUnsatisfiable)
		assert.Equal(t, &metav1.LabelSelector{MatchLabels: podLabels}, tsc.LabelSelector)
	}
	if assert.NotNil(t, spec.TerminationGracePeriodSeconds) {
		assert.Equal(t, int64(60), *spec.TerminationGracePeriodSeconds, "grace period")
	}
	c := container(t, &spec, "api")
	assertProbe(t, "liveness", c.LivenessProbe, "/health", 30, 10, 3)
	assertProbe(t, "readiness", c.ReadinessProbe, "/ready", 5, 5, 3)
	assertProbe(t, "startup", c.StartupProbe, "/health", 10, 10, 30)
	assertQuantity(t, "500m", c.Resources.Requests[corev1.ResourceCPU], "cpu request")
	assertQuantity(t, "512Mi", c.Resources.Requests[corev1.ResourceMemory], "memory request")
	if assert.NotNil(t, c.Lifecycle, "lifecycle") && assert.NotNil(t, c.Lifecycle.PreStop, "preStop") &&
		assert.NotNil(t, c.Lifecycle.PreStop.Exec, "preStop exec") {
		assert.Equal(t, []string{"/bin/sh", "-c", "sleep 10"}, c.Lifecycle.PreStop.Exec.Command)
	}
}

func assertProbe(t *testing.T, kind string, p *corev1.Probe, path string, delay, period, failures int32) {
	t.Helper()
	if !assert.NotNil(t, p, "%s probe", kind) || !assert.NotNil(t, p.HTTPGet, "%s probe httpGet", kind) {
		return
	}
	assert.Equal(t, path, p.HTTPGet.Path, "%s path", kind)
	assert.Equal(t, intstr.FromInt32(8000), p.HTTPGet.Port, "%s port", kind)
	assert.Equal(t, delay, p.InitialDelaySeconds, "%s initialDelaySeconds", kind)
	assert.Equal(t, period, p.PeriodSeconds, "%s periodSeconds", kind)
	assert.Equal(t, failures, p.FailureThreshold, "%s failureThreshold", kind)
}

func assertQuantity(t *testing.T, want string, got resource.Quantity, what string) {
	t.Helper()
	assert.Zero(t, got.Cmp(resource.MustParse(want)), "%s: want %s, got %s", what, want, got.String())
}

// assertUntouched checks that none of the api defaults was injected.
func assertUntouched(t *testing.T, spec *corev1.PodSpec) {
	t.Helper()
	assert.Nil(t, spec.Affinity, "affinity")
	assert.Empty(t, spec.TopologySpreadConstraints, "topology spread")
	for _, c := range spec.Containers {
		assert.Nil(t, c.LivenessProbe, "%s liveness", c.Name)
		assert.Nil(t, c.ReadinessProbe, "%s readiness", c.Name)
		assert.Nil(t, c.StartupProbe, "%s startup", c.Name)
		assert.Nil(t, c.Lifecycle, "%s lifecycle", c.Name)
		assert.Empty(t, c.Resources.Requests, "%s requests", c.Name)
	}
}

func kubectl(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	stdout, stderr, err = env.Kubectl(testContext(t), nil, args...)
	t.Logf("kubectl %s\n--- stdout\n%s--- stderr\n%s--- err: %v", strings.Join(args, " "), stdout, stderr, err)
	return stdout, stderr, err
}

func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := kubectl(t, args...)
	require.NoError(t, err, "kubectl %s: %s", strings.Join(args, " "), stderr)
	return out
}
