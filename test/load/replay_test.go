package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// askPatch takes a patch only from an answer that allows the object and
// patches it with a JSON patch; anything else is an error naming what came.
func TestAskPatchTakesOnlyAnAllowingJSONPatch(t *testing.T) {
	const patched = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMveCIsInZhbHVlIjoxfV0="}}`
	for _, tc := range []struct {
		name, answer string
		code         int
		want         string // the patch, or what the error says
	}{
		{"patched", patched, 200, `[{"op":"add","path":"/spec/x","value":1}]`},
		{"denied", `{"response":{"uid":"u","allowed":false,"status":{"code":403,"message":"no"}}}`, 200, "not allowed"},
		{"no patch", `{"response":{"uid":"u","allowed":true}}`, 200, "no JSON patch"},
		{"another patch type", strings.Replace(patched, `"JSONPatch"`, `"MergePatch"`, 1), 200, "no JSON patch"},
		{"no response", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, 200, "unreadable answer"},
		{"not JSON", `oops`, 200, "unreadable answer"},
		{"HTTP error", `{}`, 500, "HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.code)
				_, _ = w.Write([]byte(tc.answer))
			}))
			defer srv.Close()
			got, err := askPatch(context.Background(), srv.Client(), srv.URL, []byte(`{}`))
			if tc.name == "patched" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, string(got))
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestE2EPhaseWorks runs the end-to-end phase briefly against a real
// kube-apiserver: every variant is installed and timed, the patch replay is
// checked to admit the objects the webhook admits, and the tables are printed.
// The figures are not asserted.
func TestE2EPhaseWorks(t *testing.T) {
	rep, text := runBriefly(t, "starts a control plane and three webhook servers", 5*time.Minute,
		Config{Repeat: 1, E2E: true, E2ERequests: 2, E2EVAP: true, E2EReplay: true})

	var names []string
	for _, r := range rep.E2E {
		names = append(names, r.Name)
		assert.Len(t, r.Latencies, 2, r.Name)
	}
	assert.ElementsMatch(t, []string{
		"none, minimal", "no-op webhook, minimal", "patch replay, minimal", "laminar, minimal",
		"none, compliant", "no-op webhook, compliant", "laminar, compliant", "vap, compliant",
	}, names)
	for _, want := range []string{"end to end: server-side dry-run creates", "side by side, run 1", "patch replay pid"} {
		assert.Contains(t, text, want)
	}
}

// The patch replay is on by default and can be left out.
func TestReplayFlag(t *testing.T) {
	c, err := parseFlags([]string{"-handler=false", "-e2e"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.True(t, c.E2EReplay)
	c, err = parseFlags([]string{"-handler=false", "-e2e", "-e2e-replay=false"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.False(t, c.E2EReplay)
}
