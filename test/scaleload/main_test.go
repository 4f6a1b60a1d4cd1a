package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/laminar/ha-webhook/internal/devenv"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1000, 10000}, c.Counts)
	assert.Equal(t, 100, c.Namespaces)
	assert.Equal(t, []string{"GOMEMLIMIT=230MiB"}, c.WebhookEnv, "the Deployment's environment")
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-n", "1000, 10_000", "-namespaces", "10", "-webhook-env", "GOGC=50,GOMEMLIMIT=40MiB"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []int{1000, 10000}, c.Counts)
	assert.Equal(t, 10, c.Namespaces)
	assert.Equal(t, []string{"GOGC=50", "GOMEMLIMIT=40MiB"}, c.WebhookEnv)

	c, err = parseFlags([]string{"-webhook-env", ""}, io.Discard)
	require.NoError(t, err)
	assert.Empty(t, c.WebhookEnv, "an empty -webhook-env adds nothing")
}

func TestParseFlagsRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "10000,1000"}, "ascending"},
		{[]string{"-n", "1000,1000"}, "ascending"},
		{[]string{"-n", "-1"}, "not a count"},
		{[]string{"-n", "60000"}, "not a count"},
		{[]string{"-n", "many"}, "not a count"},
		{[]string{"-n", ","}, "no count"},
		{[]string{"-namespaces", "0"}, "-namespaces 0"},
		{[]string{"-requests", "2"}, "-requests 2"},
		{[]string{"-concurrency", "65"}, "-concurrency 65"},
		{[]string{"-timeout", "0s"}, "-timeout"},
		{[]string{"-webhook-env", "GOGC"}, "not KEY=VALUE"},
		{[]string{"-webhook-env", "GOGC=1,GOGC=2"}, "twice"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if assert.Error(t, err, "%q", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%q", tc.args)
		}
	}
}

func TestMetricValues(t *testing.T) {
	text := `# HELP go_memstats_heap_alloc_bytes Number of heap bytes allocated and currently in use.
# TYPE go_memstats_heap_alloc_bytes gauge
go_memstats_heap_alloc_bytes 6.291456e+06
controller_runtime_webhook_latency_seconds_sum{webhook="/mutate"} 0.5
controller_runtime_webhook_latency_seconds_sum{webhook="/validate"} 0.25
controller_runtime_webhook_latency_seconds_count{webhook="/mutate"} 10
laminar_ha_cluster_cache_objects{kind="Deployment"} 1000
laminar_ha_cluster_cache_objects{kind="Namespace"} 16
`
	v := metricValues(text, "go_memstats_heap_alloc_bytes", insideSum, insideCount, "absent")
	assert.Equal(t, map[string]float64{"go_memstats_heap_alloc_bytes": 6291456, insideSum: 0.75, insideCount: 10}, v)
	assert.Equal(t, map[string]float64{"Deployment": 1000, "Namespace": 16}, metricByLabel(text, cachedMetric, "kind"))
	assert.Equal(t, "Deployment 1000, Namespace 16", cachedString(metricByLabel(text, cachedMetric, "kind")))
}

func TestQuantile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, quantile(s, 0.5))
	assert.Equal(t, 99*time.Millisecond, quantile(s, 0.99))
	assert.Equal(t, 100*time.Millisecond, quantile(s, 1))
	assert.Equal(t, time.Millisecond, quantile(s, 0))
	assert.Zero(t, quantile(nil, 0.5))
}

// The workloads are the repository's examples, told apart by an instance
// label: a budget selects its own Deployment's pods and no other's, and the
// autoscaler targets its Deployment.
func TestWorkloadShapes(t *testing.T) {
	root, err := devenv.FindRepoRoot()
	require.NoError(t, err)
	s, err := loadShapes(root)
	require.NoError(t, err)
	d, b, h := s.workload(7, "scale-007", workloadName(7))
	d2, _, _ := s.workload(8, "scale-007", workloadName(8))

	assert.Equal(t, "laminar-api-00007", d.Name)
	assert.Equal(t, "scale-007", b.Namespace)
	sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "the budget selects its Deployment's pods")
	assert.False(t, sel.Matches(labels.Set(d2.Spec.Template.Labels)), "and not another instance's")
	own, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, own.Matches(labels.Set(d.Spec.Template.Labels)), "the Deployment's selector matches its template")
	assert.Equal(t, "laminar-api", d.Spec.Template.Labels["app"], "a Laminar api workload")
	assert.Equal(t, d.Name, h.Spec.ScaleTargetRef.Name)
	assert.Equal(t, "Helm", d.Labels["app.kubernetes.io/managed-by"])
	assert.Equal(t, "scale-007", h.Annotations["meta.helm.sh/release-namespace"])
	// The shapes are copied, never changed.
	assert.Equal(t, "laminar-api", s.Deployment.Name)
}
