package reliability

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
)

// TestGracefulShutdownUnderLoad sends SIGTERM to the real binary while it
// serves 200 req/s. The client plays the part of the Service: it stops sending
// once /readyz fails. Expected: readiness fails at once; the webhook keeps
// serving for --shutdown-delay; requests in flight when the listener closes
// (slow ones, body still arriving) are answered; an idle keep-alive connection
// and a connection that never sent a request do not hold the exit; the process
// exits 0 well within a 30 s grace period; the client saw 0 failures.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	const (
		rate    = 200
		delay   = 1 * time.Second
		timeout = 5 * time.Second
		grace   = 30 * time.Second // the Deployment's terminationGracePeriodSeconds
	)
	ca := newAuthority(t)
	certDir := t.TempDir()
	writeServing(t, certDir, ca.issue(t))
	w := startWebhook(t, certDir, "--shutdown-delay", delay.String(), "--shutdown-timeout", timeout.String())

	// Readiness watcher: the endpoint leaves the Service when /readyz fails.
	var notReadyAt atomic.Pointer[time.Time]
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go func() {
		for watchCtx.Err() == nil {
			if code, _ := w.readyz(); code != http.StatusOK {
				now := time.Now()
				notReadyAt.Store(&now)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	l := newLoader(t, w, rate, ca.pool)
	l.stop = func() bool { return notReadyAt.Load() != nil }
	done := make(chan *loadStats, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { done <- l.run(ctx, 30*time.Second) }()
	time.Sleep(1500 * time.Millisecond) // steady state, keep-alive pool warm

	// Connections that must not hold the exit, and requests that must finish.
	addr := fmt.Sprintf("127.0.0.1:%d", w.port)
	idleTCP, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer idleTCP.Close()
	idleTLS, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: serviceHost, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	defer idleTLS.Close()
	const slowCount = 3
	slow := make([]*slowReq, slowCount)
	for i := range slow {
		slow[i] = startSlow(t, w, ca, fmt.Sprintf("slow-%d", i))
	}

	sigAt := time.Now()
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))

	// The listener closes after the delay; the slow requests are still sending.
	var closedAt time.Time
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return false
		}
		closedAt = time.Now()
		return true
	}, delay+5*time.Second, 20*time.Millisecond, "the listener never closed")
	for _, s := range slow {
		s.finish()
	}
	for _, s := range slow {
		s.requireAnswered(t)
	}
	select {
	case <-w.exited:
	case <-time.After(grace):
		t.Fatal("the webhook did not exit within the grace period")
	}
	stats := <-done
	stopWatch()

	require.NoError(t, w.exitErr, "exit status")
	nr := notReadyAt.Load()
	require.NotNil(t, nr, "readiness never failed")
	requireNoFailures(t, stats)
	readyLag := nr.Sub(sigAt)
	assert.Less(t, readyLag, delay/2, "readiness must fail first, well within the delay")
	assert.GreaterOrEqual(t, closedAt.Sub(sigAt), delay, "the listener closed before --shutdown-delay ended")
	exit := w.exitedAt.Sub(sigAt)
	assert.Less(t, exit, delay+timeout, "exit took longer than the delay plus the drain timeout")
	drainAfterLastSlow := w.exitedAt.Sub(closedAt)
	assert.Less(t, drainAfterLastSlow, 2*time.Second, "an unused connection held the exit")
	assert.Contains(t, w.log.String(), "webhook drained")

	t.Logf("figures: graceful shutdown: %d req/s, SIGTERM with --shutdown-delay=%s: %s; readiness failed %s after SIGTERM, "+
		"last request sent %s after it, listener closed at %s, %d slow in-flight requests answered after that, "+
		"exit code 0 at %s (grace %s)",
		rate, delay, stats.summary(), readyLag.Round(time.Millisecond), stats.stoppedAt.Sub(sigAt).Round(time.Millisecond),
		closedAt.Sub(sigAt).Round(time.Millisecond), slowCount, exit.Round(time.Millisecond), grace)
}

// slowReq is an admission request whose body arrives in two parts, the second
// only when the test says so: a request in flight across the drain.
type slowReq struct {
	uid    string
	pw     *io.PipeWriter
	rest   string
	answer chan *http.Response
	failed chan error
}

func startSlow(t *testing.T, w *webhook, ca *authority, uid string) *slowReq {
	t.Helper()
	body := review("admission.k8s.io/v1", uid, "Deployment", fixtureJSON(t, "admission/api-bad.yaml"))
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	req, err := http.NewRequest(http.MethodPost, w.url("/validate"), pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: serviceHost, MinVersion: tls.VersionTLS12}}}
	s := &slowReq{uid: uid, pw: pw, rest: body[len(body)/2:], answer: make(chan *http.Response, 1), failed: make(chan error, 1)}
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			s.failed <- err
			return
		}
		s.answer <- resp
	}()
	_, err = pw.Write([]byte(body[:len(body)/2]))
	require.NoError(t, err)
	return s
}

func (s *slowReq) finish() {
	_, _ = s.pw.Write([]byte(s.rest))
	_ = s.pw.Close()
}

func (s *slowReq) requireAnswered(t *testing.T) {
	t.Helper()
	select {
	case resp := <-s.answer:
		defer resp.Body.Close()
		var ar admissionv1.AdmissionReview
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ar))
		require.NotNil(t, ar.Response)
		assert.Equal(t, s.uid, string(ar.Response.UID))
		assert.False(t, ar.Response.Allowed)
		assert.True(t, strings.Contains(ar.Response.Result.Message, "[replicas-min]"), ar.Response.Result.Message)
	case err := <-s.failed:
		t.Fatalf("in-flight request %s failed: %v", s.uid, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("in-flight request %s got no answer", s.uid)
	}
}
