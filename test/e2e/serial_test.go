package e2e

// Tests in this file are NOT parallel: they stop the webhook or count its
// requests. Go runs every non-parallel top-level test before it resumes the
// parallel ones, so nothing else talks to the API server meanwhile.

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// With the webhook down, Laminar workloads fail closed (validating
// failurePolicy Fail) and everything else is unaffected.
func TestWebhookDownFailsClosed(t *testing.T) {
	ctx := testContext(t)
	c, _ := newClient(t)
	ns := newNamespace(t, nil)

	require.NoError(t, env.StopWebhook())
	restarted := false
	t.Cleanup(func() {
		if !restarted { // leave a working webhook for the other tests
			if err := env.StartWebhook(context.Background()); err != nil {
				t.Errorf("restart webhook: %v", err)
			}
		}
	})

	d := loadDeployment(t, example("api-good.yaml"), ns)
	err := c.Create(ctx, d)
	require.Error(t, err, "a Laminar workload must not be admitted unjudged")
	assert.True(t, apierrors.IsInternalError(err), "want InternalError, got %v", err)
	assert.Contains(t, err.Error(), `failed calling webhook "validate.ha.laminar.io"`)
	requireNotFound(t, c, d)

	plain := loadDeployment(t, testdata("unlabelled.yaml"), ns)
	require.NoError(t, c.Create(ctx, plain), "non-Laminar workloads never call the webhook")

	restarted = true
	start := time.Now()
	require.NoError(t, env.StartWebhook(ctx), "restart and wait for the admission marker")
	t.Logf("webhook back in %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, c.Create(ctx, d))
	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assertAPIDefaults(t, got, apiPodLabels)
}

// An object that carries both label schemes matches exactly one mutating and one
// validating webhook entry (the *-name entries exclude app=laminar-*).
func TestBothLabelSchemesCalledOnce(t *testing.T) {
	ctx := testContext(t)
	c, _ := newClient(t)
	d := loadDeployment(t, testdata("api-both-labels.yaml"), newNamespace(t, nil))

	before := webhookRequests(t)
	require.NoError(t, c.Create(ctx, d))
	after := webhookRequests(t)
	assert.Equal(t, 1.0, after["/mutate"]-before["/mutate"], "mutate calls")
	assert.Equal(t, 1.0, after["/validate"]-before["/validate"], "validate calls")

	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assertAPIDefaults(t, got, map[string]string{"app": "laminar-api"})
}

// webhookRequests reads controller_runtime_webhook_requests_total per path from
// the webhook's /metrics, scraped as devenv's metrics reader.
func webhookRequests(t *testing.T) map[string]float64 {
	t.Helper()
	text, err := env.Metrics(testContext(t))
	require.NoError(t, err)
	return parseRequests(t, strings.NewReader(text))
}

func parseRequests(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "controller_runtime_webhook_requests_total{") {
			continue
		}
		labels, value, ok := strings.Cut(strings.TrimPrefix(line, "controller_runtime_webhook_requests_total{"), "} ")
		require.True(t, ok, line)
		v, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err, line)
		for _, l := range strings.Split(labels, ",") {
			if k, val, _ := strings.Cut(l, "="); k == "webhook" {
				out[strings.Trim(val, `"`)] += v
			}
		}
	}
	require.NoError(t, sc.Err())
	return out
}
