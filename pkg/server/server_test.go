package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/server"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type running struct {
	port                  int
	healthURL, metricsURL string
	certDir               string
	// stop cancels Start's context and expects a clean return; cancel and done
	// are the parts, for tests that watch the shutdown themselves.
	stop   func()
	cancel context.CancelFunc
	done   <-chan error
}

func start(t *testing.T, http2 bool) running {
	t.Helper()
	return startWith(t, func(o *server.Options) { o.EnableHTTP2 = http2 })
}

// startWith starts a server on loopback ports with the guide's policy; change
// adjusts the options first.
func startWith(t *testing.T, change func(*server.Options)) running {
	t.Helper()
	dir := t.TempDir()
	certs, err := devenv.NewCerts("laminar-ha-webhook.laminar-ha-system.svc")
	require.NoError(t, err)
	require.NoError(t, certs.WriteServing(dir))
	r := running{port: freePort(t), certDir: dir}
	health, metrics := freePort(t), freePort(t)
	r.healthURL = fmt.Sprintf("http://127.0.0.1:%d", health)
	r.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics)
	o := server.Options{
		Host: "127.0.0.1", Port: r.port, CertDir: dir, CertName: "tls.crt", KeyName: "tls.key",
		HealthAddr: fmt.Sprintf("127.0.0.1:%d", health), MetricsAddr: fmt.Sprintf("127.0.0.1:%d", metrics),
		Policy: admit.Static(policy.Default()), Log: logr.Discard(),
	}
	if change != nil {
		change(&o)
	}
	srv, err := server.New(o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		done <- srv.Start(ctx)
		close(finished)
	}()
	r.cancel, r.done = cancel, done
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-finished:
				select {
				case err := <-done:
					assert.NoError(t, err)
				default: // the test read the result itself
				}
			case <-time.After(30 * time.Second):
				t.Error("server did not stop")
			}
		})
	}
	t.Cleanup(r.stop)
	require.Eventually(t, func() bool {
		resp, err := http.Get(r.healthURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "readyz never turned ready")
	return r
}

func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}, Timeout: 10 * time.Second}
}

func TestServesAdmissionOverTLS(t *testing.T) {
	r := start(t, false)
	client := tlsClient(&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test server, self-signed
	body := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"operation":"CREATE","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"app":"laminar-api"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"laminar-api"}},"template":{"metadata":{"labels":{"app":"laminar-api"}},"spec":{"containers":[{"name":"api","image":"x"}]}}}}}}`
	resp, err := client.Post(fmt.Sprintf("https://127.0.0.1:%d%s", r.port, server.ValidatePath), "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1", resp.Proto, "HTTP/2 is off unless --enable-http2")
	assert.Contains(t, string(out), `"allowed":false`)
	assert.Contains(t, string(out), `[replicas-min]`)

	resp, err = http.Get(r.healthURL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(r.metricsURL)
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metrics), `controller_runtime_webhook_requests_total{code="200",webhook="/validate"}`)
}

func TestTLSFloorIs12(t *testing.T) {
	r := start(t, false)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}) //nolint:gosec // probing the floor
	if err == nil {
		conn.Close()
	}
	require.Error(t, err, "a TLS 1.1 handshake must fail")
}

func TestHTTP2OnlyWhenEnabled(t *testing.T) {
	r := start(t, true)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}) //nolint:gosec // test server
	require.NoError(t, err)
	defer conn.Close()
	assert.Equal(t, "h2", conn.ConnectionState().NegotiatedProtocol)
}

func servedSerial(t *testing.T, port int) string {
	t.Helper()
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the served cert
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestCertificateHotReload replaces the files in the cert dir, as a kubelet
// updating a Secret mount does, and expects the new certificate without a restart.
func TestCertificateHotReload(t *testing.T) {
	r := start(t, false)
	before := servedSerial(t, r.port)
	certs, err := devenv.NewCerts("laminar-ha-webhook.laminar-ha-system.svc")
	require.NoError(t, err)
	block, _ := pem.Decode(certs.Cert)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	want := leaf.SerialNumber.String()
	require.NotEqual(t, before, want)

	// Write beside, then rename over, so the watcher never reads half a file.
	for name, data := range map[string][]byte{"tls.crt": certs.Cert, "tls.key": certs.Key} {
		tmp := filepath.Join(r.certDir, "."+name+".new")
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, filepath.Join(r.certDir, name)))
	}
	require.Eventually(t, func() bool { return servedSerial(t, r.port) == want }, 20*time.Second, 100*time.Millisecond,
		"the new certificate was not served")
}

func TestNewNeedsPolicy(t *testing.T) {
	_, err := server.New(server.Options{Port: 1})
	require.Error(t, err)
}
