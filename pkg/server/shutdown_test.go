package server_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/server"
)

// reviewBody is a one-replica laminar-api Deployment: /validate denies it.
const reviewBody = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"operation":"CREATE","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"app":"laminar-api"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"laminar-api"}},"template":{"metadata":{"labels":{"app":"laminar-api"}},"spec":{"containers":[{"name":"api","image":"x"}]}}}}}}`

func insecureClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // test server, self-signed
		Timeout:   10 * time.Second,
	}
}

// judged checks that resp is a well-formed denial of reviewBody.
func judged(t *testing.T, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ar admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ar))
	require.NotNil(t, ar.Response)
	assert.Equal(t, "u1", string(ar.Response.UID))
	assert.False(t, ar.Response.Allowed)
}

func status(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// slowRequest sends reviewBody's first half now and returns a function that
// sends the rest and the answer's channel: a request in flight for as long as
// the test likes.
func slowRequest(t *testing.T, c *http.Client, url string) (finish func(), answer <-chan *http.Response, failed <-chan error) {
	finish, _, answer, failed = slowRequestAbortable(t, c, url)
	return finish, answer, failed
}

// slowRequestAbortable is slowRequest with a way to end the client's side: its
// transport waits for the body until then, even on a closed connection.
func slowRequestAbortable(t *testing.T, c *http.Client, url string) (finish, abort func(), answer <-chan *http.Response, failed <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, url, pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(reviewBody))
	ans, errc := make(chan *http.Response, 1), make(chan error, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			errc <- err
			return
		}
		ans <- resp
	}()
	half := len(reviewBody) / 2
	_, err = pw.Write([]byte(reviewBody[:half]))
	require.NoError(t, err)
	t.Cleanup(func() { _ = pw.Close() })
	return func() {
			_, _ = pw.Write([]byte(reviewBody[half:]))
			_ = pw.Close()
		}, func() { _ = pw.CloseWithError(errors.New("test gave up")) },
		ans, errc
}

// TestShutdownReadinessFirstThenDrain: on the stop signal /readyz fails at once
// while /healthz and the webhook keep answering (with Connection: close) for the
// shutdown delay; then new connections are refused, the request in flight still
// gets its answer, and Start returns nil.
func TestShutdownReadinessFirstThenDrain(t *testing.T) {
	const delay = 600 * time.Millisecond
	r := startWith(t, func(o *server.Options) { o.ShutdownDelay = delay; o.ShutdownTimeout = 5 * time.Second })
	url := fmt.Sprintf("https://127.0.0.1:%d%s", r.port, server.ValidatePath)
	c := insecureClient()
	resp, err := c.Post(url, "application/json", strings.NewReader(reviewBody))
	require.NoError(t, err)
	judged(t, resp)
	assert.False(t, resp.Close, "keep-alive while serving normally")

	finish, answer, failed := slowRequest(t, insecureClient(), url)
	time.Sleep(100 * time.Millisecond) // the slow request's headers are in

	signalled := time.Now()
	r.cancel()
	require.Eventually(t, func() bool {
		code, _ := status(r.healthURL + "/readyz")
		return code >= 400
	}, delay/2, 5*time.Millisecond, "readiness must fail first, well within the shutdown delay")
	_, body := status(r.healthURL + "/readyz?verbose")
	assert.Contains(t, body, "[-]shutdown failed")
	code, _ := status(r.healthURL + "/healthz")
	assert.Equal(t, http.StatusOK, code, "liveness is unaffected by a shutdown")

	resp, err = c.Post(url, "application/json", strings.NewReader(reviewBody))
	require.NoError(t, err, "still serving during the shutdown delay")
	judged(t, resp)
	assert.True(t, resp.Close, "responses ask the client to reconnect elsewhere")

	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "listener never closed")
	assert.GreaterOrEqual(t, time.Since(signalled), delay, "the listener closed before the shutdown delay ended")

	select {
	case err := <-r.done:
		t.Fatalf("Start returned (%v) while a request was in flight", err)
	default:
	}
	finish()
	select {
	case resp := <-answer:
		judged(t, resp)
	case err := <-failed:
		t.Fatalf("the in-flight request failed: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to the in-flight request")
	}
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after the drain")
	}
}

// TestShutdownClosesUnusedConnections: connections without a request in flight —
// a TCP connection that never shook hands, a TLS one that never sent a request,
// an idle keep-alive one — do not hold the drain (http.Server alone waits 5s for
// the first two).
func TestShutdownClosesUnusedConnections(t *testing.T) {
	r := startWith(t, nil)
	addr := fmt.Sprintf("127.0.0.1:%d", r.port)
	raw, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer raw.Close()
	hand, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test server
	require.NoError(t, err)
	defer hand.Close()
	c := insecureClient()
	resp, err := c.Post("https://"+addr+server.ValidatePath, "application/json", strings.NewReader(reviewBody))
	require.NoError(t, err)
	judged(t, resp)

	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return")
	}
	took := time.Since(start)
	t.Logf("shutdown with 3 unused connections took %s", took.Round(time.Millisecond))
	assert.Less(t, took, server.NewConnGrace+time.Second, "unused connections held the shutdown")
}

// TestShutdownTimeoutCutsStuckRequests: a request that never completes is cut
// once the drain timeout runs out, and Start says so.
func TestShutdownTimeoutCutsStuckRequests(t *testing.T) {
	r := startWith(t, func(o *server.Options) { o.ShutdownTimeout = 300 * time.Millisecond })
	_, abort, _, failed := slowRequestAbortable(t, insecureClient(), fmt.Sprintf("https://127.0.0.1:%d%s", r.port, server.ValidatePath))
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		require.Error(t, err)
		assert.True(t, errors.Is(err, server.ErrDrainTimeout), "got %v", err)
		assert.Contains(t, err.Error(), "1 connections closed")
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return")
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	abort()
	select {
	case err := <-failed:
		t.Logf("the stuck client saw: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the stuck request was not cut")
	}
}

func TestNewRejectsNegativeDurations(t *testing.T) {
	_, err := server.New(server.Options{Port: 1, Policy: nil})
	require.Error(t, err)
	for _, o := range []server.Options{{ShutdownDelay: -time.Second}, {ShutdownTimeout: -time.Second}} {
		o.Policy = admit.Static(policy.Default())
		_, err := server.New(o)
		require.Error(t, err)
	}
}
