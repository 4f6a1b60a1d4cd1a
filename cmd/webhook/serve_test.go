package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// syncBuffer lets the test read the server's log while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestServeReloadsPolicy runs the real serve command: a policy change takes effect
// without a restart; an invalid one keeps the old policy, sets the metric, and
// readiness stays up.
func TestServeReloadsPolicy(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	dir := t.TempDir()
	certs, err := devenv.NewCerts("laminar-ha-webhook.laminar-ha-system.svc")
	require.NoError(t, err)
	require.NoError(t, certs.WriteServing(dir))
	policyPath := filepath.Join(dir, "policy.yaml")
	write := func(content string) {
		tmp := policyPath + ".tmp"
		require.NoError(t, os.WriteFile(tmp, []byte("apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\n"+content), 0o600))
		require.NoError(t, os.Rename(tmp, policyPath))
	}
	write("api:\n  replicas: {min: 2, recommended: 3}\n")

	ports, err := devenv.FreePorts(3)
	require.NoError(t, err)
	port, health, metrics := ports[0], ports[1], ports[2]
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--cert-dir", dir,
			"--health-addr", fmt.Sprintf("127.0.0.1:%d", health), "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics),
			"--policy", policyPath, "--policy-reload-interval", "20ms", "--log-format", "json"}, io.Discard, &logs)
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, exitOK, code)
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", health)
	require.Eventually(t, func() bool { code, _ := get(t, readyz); return code == http.StatusOK }, 20*time.Second, 20*time.Millisecond)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test server
	judge := func(replicas int) string {
		body := fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"operation":"CREATE","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"app":"laminar-api"}},"spec":{"replicas":%d,"selector":{"matchLabels":{"app":"laminar-api"}},"template":{"metadata":{"labels":{"app":"laminar-api"}},"spec":{"containers":[{"name":"api","image":"x"}]}}}}}}`, replicas)
		resp, err := client.Post(fmt.Sprintf("https://127.0.0.1:%d/validate", port), "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return string(out)
	}
	gauge := func() string {
		_, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "laminar_ha_policy_valid ") {
				return strings.TrimPrefix(l, "laminar_ha_policy_valid ")
			}
		}
		return ""
	}
	assert.NotContains(t, judge(2), "replicas-min", "2 meets the first policy's floor")

	write("api:\n  replicas: {min: 4, recommended: 4}\n")
	require.Eventually(t, func() bool { return strings.Contains(judge(2), "at least 4 replicas") }, 10*time.Second, 20*time.Millisecond,
		"the new policy never took effect")
	assert.Equal(t, "1", gauge())

	write("api:\n  replicas: {min: 0}\n")
	require.Eventually(t, func() bool { return gauge() == "0" }, 10*time.Second, 20*time.Millisecond, "invalid policy not flagged")
	assert.Contains(t, judge(2), "at least 4 replicas", "the previous policy stays in force")
	code, _ := get(t, readyz)
	assert.Equal(t, http.StatusOK, code, "readiness stays up")
	assert.Contains(t, logs.String(), "policy file changed but cannot be used")
	assert.Contains(t, logs.String(), "api.replicas.min")
}
