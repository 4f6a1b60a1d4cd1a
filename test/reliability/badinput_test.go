package reliability

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
)

// maxBody is controller-runtime's admission request limit (7 MiB).
const maxBody = 7 << 20

// TestBadInputOverHTTPS sends broken and hostile requests to the real binary over
// real TLS. Every one gets a well-formed AdmissionReview whose status names the
// problem, with the status code the API server reports (400, or 413 for a body
// over the limit) — never allowed. The HTTP status is 200 for all of them: the
// API server reads the verdict from the review, not from the HTTP status.
//
// A few requests are judged rather than refused, on purpose, and are listed
// with what they must get: unknown fields are tolerated (a newer API server may
// send fields this build does not know), but the object is still judged.
func TestBadInputOverHTTPS(t *testing.T) {
	ca := newAuthority(t)
	certDir := t.TempDir()
	writeServing(t, certDir, ca.issue(t))
	w := startWebhook(t, certDir)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: serviceHost, MinVersion: tls.VersionTLS12}}}

	bad := fixtureJSON(t, "admission/api-bad.yaml")
	good := fixtureJSON(t, "mutate/api-minimal.yaml")
	v1 := func(uid, object string) string { return review("admission.k8s.io/v1", uid, "Deployment", object) }
	huge := v1("huge", strings.Replace(bad, `"labels":{"app":"laminar-api"}`,
		`"labels":{"app":"laminar-api"},"annotations":{"filler":"`+strings.Repeat("x", maxBody)+`"}`, 1))
	require.Greater(t, len(huge), maxBody)

	type want struct {
		code    int32  // the review's status code; 0: the request is judged (see allowed)
		message string // part of the status message
		allowed bool   // for judged requests
	}
	cases := []struct {
		name, method, contentType, path, body string
		want                                  want
	}{
		{name: "empty body", body: "", want: want{code: 400, message: "request body is empty"}},
		{name: "GET without body", method: http.MethodGet, want: want{code: 400, message: "request body is empty"}},
		{name: "wrong content type", contentType: "text/plain", body: v1("ct", bad), want: want{code: 400, message: "contentType=text/plain, expected application/json"}},
		{name: "content type with parameters", contentType: "application/json; charset=utf-8", body: v1("ct2", bad), want: want{code: 400, message: "expected application/json"}},
		{name: "YAML instead of JSON", body: "apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\n", want: want{code: 400}},
		{name: "invalid JSON", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{`, want: want{code: 400}},
		{name: "not an object", body: `[1,2,3]`, want: want{code: 400}},
		{name: "body over the 7 MiB limit", body: huge, want: want{code: 413, message: "request entity is too large"}},
		{name: "no object", body: v1("noobj", ""), want: want{code: 400, message: "no object in the request"}},
		{name: "object null", body: v1("nullobj", "null"), want: want{code: 400, message: "no object in the request"}},
		{name: "object is a string", body: v1("strobj", `"laminar-api"`), want: want{code: 400, message: "does not fit apps/v1 Deployment"}},
		{name: "object of the wrong shape", body: v1("shape", `{"spec":{"replicas":"three"}}`), want: want{code: 400, message: "does not fit apps/v1 Deployment"}},
		// No pod template labels, so not a Laminar workload (the role comes from the
		// pod template): allowed untouched, as documented. The API server's own
		// validation, which runs before validating webhooks, rejects such a
		// Deployment anyway (no selector, no template).
		{name: "spec null", body: v1("nullspec", strings.Replace(bad, `"spec":{`, `"spec":null,"x":{`, 1)), want: want{allowed: true}},
		{name: "template labels null", body: v1("nulllabels", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"app":"laminar-api"}},"spec":{"replicas":1,"template":{"metadata":{"labels":null}}}}`), want: want{allowed: true}},
		{name: "request null", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}`, want: want{code: 400, message: "no request.uid"}},
		{name: "no request", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, want: want{code: 400, message: "no request.uid"}},
		{name: "request without uid", body: strings.Replace(v1("x", bad), `"uid":"x",`, "", 1), want: want{code: 400, message: "no request.uid"}},
		{name: "kind null", body: strings.Replace(v1("nokind", bad), `"kind":{"group":"apps","version":"v1","kind":"Deployment"}`, `"kind":null`, 1), want: want{code: 400, message: "no request.kind"}},
		{name: "resource missing", body: strings.Replace(v1("nores", bad), `"resource":{"group":"apps","version":"v1","resource":"deployments"},`, "", 1), want: want{code: 400, message: "no request.resource"}},
		{name: "unknown operation", body: strings.Replace(v1("op", bad), `"operation":"CREATE"`, `"operation":"PATCH"`, 1), want: want{code: 400, message: `unknown request.operation "PATCH"`}},
		{name: "operation null", body: strings.Replace(v1("opnull", bad), `"operation":"CREATE"`, `"operation":null`, 1), want: want{code: 400, message: `unknown request.operation ""`}},
		{name: "unknown fields everywhere, bad object still denied", body: strings.Replace(strings.Replace(v1("unknown", strings.Replace(bad, `"spec":{`, `"spec":{"futureField":{"a":1},`, 1)),
			`"request":{`, `"request":{"futureRequestField":true,`, 1), `"kind":"AdmissionReview",`, `"kind":"AdmissionReview","futureTopField":[1],`, 1),
			want: want{allowed: false, message: "[replicas-min]"}},
		{name: "v1beta1, bad object denied", body: review("admission.k8s.io/v1beta1", "beta", "Deployment", bad), want: want{allowed: false, message: "[replicas-min]"}},
		// controller-runtime decodes any admission.k8s.io version into v1 and answers in
		// the version it was asked in; the object is judged all the same.
		{name: "unknown AdmissionReview version, bad object denied", body: review("admission.k8s.io/v2", "v2", "Deployment", bad), want: want{allowed: false, message: "[replicas-min]"}},
		{name: "not an AdmissionReview", body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`, want: want{code: 400}},
		{name: "wrong kind for the path: Scale on /validate", path: "/validate",
			body: strings.Replace(v1("scale", `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"laminar-api"},"spec":{"replicas":1}}`),
				`"kind":{"group":"apps","version":"v1","kind":"Deployment"}`, `"kind":{"group":"autoscaling","version":"v1","kind":"Scale"}`, 1),
			want: want{allowed: true, message: "is not judged"}},
		{name: "request kind StatefulSet, object a Laminar Deployment", body: review("admission.k8s.io/v1", "sts", "StatefulSet", bad),
			want: want{allowed: false, message: "[replicas-min]"}},
		{name: "deeply nested JSON", body: v1("deep", strings.Replace(bad, `"spec":{`, `"spec":{"x":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`,`, 1)), want: want{code: 400, message: "exceeded max depth"}},
		{name: "good object, for contrast", path: "/mutate", body: v1("good", good), want: want{allowed: true}},
	}
	summary := map[int32]int{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method, ct, path := c.method, c.contentType, c.path
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = "application/json"
			}
			if path == "" {
				path = "/validate"
			}
			req, err := http.NewRequest(method, w.url(path), bytes.NewBufferString(c.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", ct)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "HTTP status")
			var ar admissionv1.AdmissionReview
			require.NoError(t, json.Unmarshal(raw, &ar), "answer is not an AdmissionReview: %.300s", raw)
			r := ar.Response
			require.NotNil(t, r, "answer without a response: %.300s", raw)
			require.NotNil(t, r.Result, "every answer here carries a status")
			if c.want.code != 0 {
				assert.False(t, r.Allowed, "a broken request must never be allowed")
				assert.Equal(t, c.want.code, r.Result.Code, "status code; message %q", r.Result.Message)
				assert.NotEmpty(t, r.Result.Message)
				assert.Empty(t, r.Patch)
			} else {
				assert.Equal(t, c.want.allowed, r.Allowed, "verdict; message %q", r.Result.Message)
			}
			assert.Contains(t, r.Result.Message, c.want.message)
			summary[r.Result.Code]++
		})
	}
	// The webhook is still healthy and never panicked.
	code, _ := w.readyz()
	assert.Equal(t, http.StatusOK, code)
	assert.Zero(t, w.metricValue(t, "controller_runtime_webhook_panics_total"), "recovered panics")
	t.Logf("figures: bad input over HTTPS: %d cases, status codes %v, 0 accidental allows, 0 panics", len(cases), fmt.Sprint(summary))
}
