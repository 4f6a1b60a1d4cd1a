package reliability

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// serviceHost is the name the API server verifies the serving certificate against.
const serviceHost = "laminar-ha-webhook.laminar-ha-system.svc"

// binary is the webhook built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if b := os.Getenv("RELIABILITY_WEBHOOK_BINARY"); b != "" {
		binary = b
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "laminar-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "laminar-ha-webhook")
	// The same flags as internal/devenv's build, so the two share the build cache.
	cmd := exec.Command("go", "build", "-trimpath", "-o", binary, "github.com/laminar/ha-webhook/cmd/webhook")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: go build ./cmd/webhook: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// ---- certificates -------------------------------------------------------------

// authority is a CA that can issue serving certificates, as cert-manager's CA
// issuer does on every renewal: same CA, new key, new serial.
type authority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	pool    *x509.CertPool
}

func newAuthority(t *testing.T) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(t), Subject: pkix.Name{CommonName: "laminar reliability CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool: pool}
}

// issued is one serving certificate and its key, PEM-encoded.
type issued struct {
	serial    string
	cert, key []byte
}

func (a *authority) issue(t *testing.T) issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial := randomSerial(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: serviceHost},
		DNSNames:    []string{serviceHost, "laminar-ha-webhook.laminar-ha-system"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return issued{
		serial: serial.String(),
		cert:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

func randomSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	require.NoError(t, err)
	return n.Add(n, big.NewInt(1))
}

// ---- the kubelet's atomic writer ----------------------------------------------

// atomicWrite updates dir the way the kubelet updates a Secret volume
// (k8s.io/kubernetes/pkg/volume/util/atomic_writer.go): the files go into a new
// timestamped directory, a "..data_tmp" symlink to it is renamed over "..data"
// (one atomic switch for every file), each visible name is a symlink into
// "..data", and the previous directory is removed. A reader never sees a new
// certificate with an old key.
func atomicWrite(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	ts := filepath.Join(dir, ".."+time.Now().UTC().Format("2006_01_02_15_04_05.000000000"))
	require.NoError(t, os.Mkdir(ts, 0o755))
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(ts, name), data, 0o600))
	}
	data := filepath.Join(dir, "..data")
	old, _ := os.Readlink(data)
	tmp := filepath.Join(dir, "..data_tmp")
	require.NoError(t, os.Symlink(filepath.Base(ts), tmp))
	require.NoError(t, os.Rename(tmp, data))
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if old != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, old)))
	}
}

func writeServing(t *testing.T, dir string, c issued) {
	t.Helper()
	atomicWrite(t, dir, map[string][]byte{"tls.crt": c.cert, "tls.key": c.key})
}

// ---- the webhook process --------------------------------------------------------

// webhook is the real binary running `serve`.
type webhook struct {
	cmd                  *exec.Cmd
	port, health, metric int
	log                  *syncBuffer
	exited               chan struct{}
	exitErr              error
	exitedAt             time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// startWebhook runs the binary on loopback ports with certDir and extra flags,
// and waits for /readyz. It is stopped (SIGKILL) at the end of the test if still
// running; its log is printed when the test fails.
func startWebhook(t *testing.T, certDir string, extra ...string) *webhook {
	t.Helper()
	return startWebhookEnv(t, certDir, nil, extra...)
}

// startWebhookEnv is startWebhook with more environment variables (NAME=value).
func startWebhookEnv(t *testing.T, certDir string, env []string, extra ...string) *webhook {
	t.Helper()
	ports := freePorts(t, 3)
	w := &webhook{port: ports[0], health: ports[1], metric: ports[2], log: &syncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"serve", "--host", "127.0.0.1", "--port", strconv.Itoa(w.port), "--cert-dir", certDir,
		"--health-addr", "127.0.0.1:" + strconv.Itoa(w.health), "--metrics-addr", "127.0.0.1:" + strconv.Itoa(w.metric),
		"--log-format", "json"}, extra...)
	w.cmd = exec.Command(binary, args...)
	// No cluster: never pick up the caller's kubeconfig or an in-cluster config.
	w.cmd.Env = append(append(os.Environ(), "KUBECONFIG=", "KUBERNETES_SERVICE_HOST="), env...)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	require.NoError(t, parentdeath.Start(w.cmd), "start the webhook so that it dies with this process, however that ends")
	go func() {
		w.exitErr = w.cmd.Wait()
		w.exitedAt = time.Now()
		close(w.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
		if t.Failed() {
			t.Logf("webhook log:\n%s", w.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := w.readyz(); code == http.StatusOK {
			return w
		}
		select {
		case <-w.exited:
			t.Fatalf("webhook exited during start-up: %v\n%s", w.exitErr, w.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never turned ready\n%s", w.log.String())
		}
	}
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

func (w *webhook) readyz() (int, string) {
	resp, err := probeClient.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz?verbose", w.health))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (w *webhook) url(path string) string {
	return fmt.Sprintf("https://127.0.0.1:%d%s", w.port, path)
}

// metric reads one sample of the webhook's /metrics by its exact series text.
func (w *webhook) metricValue(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := probeClient.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", w.metric))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	return 0
}

// servedSerial is the serial of the certificate a fresh handshake gets.
func (w *webhook) servedSerial(t *testing.T) string {
	t.Helper()
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", w.port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the served certificate
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// ---- admission requests --------------------------------------------------------

func fixtureJSON(t *testing.T, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", rel))
	require.NoError(t, err)
	js, err := yaml.YAMLToJSON(raw)
	require.NoError(t, err)
	return string(js)
}

// review is an AdmissionReview as the API server writes it.
func review(apiVersion, uid, kind, object string) string {
	obj := ""
	if object != "" {
		obj = `"object": ` + object + `,`
	}
	return fmt.Sprintf(`{"apiVersion":%q,"kind":"AdmissionReview","request":{"uid":%q,`+
		`"kind":{"group":"apps","version":"v1","kind":%q},"resource":{"group":"apps","version":"v1","resource":"deployments"},`+
		`"name":"laminar-api","namespace":"laminar","operation":"CREATE","userInfo":{"username":"alice"},%s"dryRun":false}}`,
		apiVersion, uid, kind, obj)
}

// call is one kind of request the load sends, and what its answer must be.
type call struct {
	name    string
	path    string
	object  string
	allowed bool
	patched bool
}

func loadCalls(t *testing.T) []call {
	t.Helper()
	return []call{
		{name: "mutate api", path: "/mutate", object: fixtureJSON(t, "mutate/api-minimal.yaml"), allowed: true, patched: true},
		{name: "validate good api", path: "/validate", object: fixtureJSON(t, "mutate/api-minimal.golden.yaml"), allowed: true},
		{name: "validate bad api", path: "/validate", object: fixtureJSON(t, "admission/api-bad.yaml"), allowed: false},
	}
}

// ---- load ------------------------------------------------------------------------

// loadStats is what a load run measured.
type loadStats struct {
	mu        sync.Mutex
	sent, ok  int64
	failures  []string
	latencies []time.Duration
	// handshakes counts TLS handshakes per served certificate serial, with the
	// time of the first one.
	handshakes map[string]int
	firstSeen  map[string]time.Time
	stoppedAt  time.Time
}

func (s *loadStats) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fmt.Sprintf(format, args...))
}

func (s *loadStats) handshake(serial string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handshakes[serial] == 0 {
		s.firstSeen[serial] = time.Now()
	}
	s.handshakes[serial]++
}

func (s *loadStats) percentile(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), s.latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	i := int(p * float64(len(l)-1))
	return l[i]
}

func (s *loadStats) summary() string {
	s.mu.Lock()
	sent, ok, failed := s.sent, s.ok, len(s.failures)
	s.mu.Unlock()
	return fmt.Sprintf("sent %d, ok %d, failed %d, latency p50 %s p99 %s max %s", sent, ok, failed,
		s.percentile(0.50).Round(10*time.Microsecond), s.percentile(0.99).Round(10*time.Microsecond),
		s.percentile(1).Round(10*time.Microsecond))
}

// loader sends admission requests at a fixed rate. Half go over a keep-alive
// connection pool, half over a fresh connection each (a TLS handshake per
// request, as when the API server opens new connections): a certificate change
// is seen by the latter at once.
type loader struct {
	t       *testing.T
	w       *webhook
	rate    int
	calls   []call
	clients []*http.Client
	stats   *loadStats
	seq     atomic.Int64
	// stop, when set, is polled before each send: the load stops for good once
	// it returns true (a client whose load balancer took the endpoint away).
	stop func() bool
}

func newLoader(t *testing.T, w *webhook, rate int, roots *x509.CertPool) *loader {
	t.Helper()
	l := &loader{t: t, w: w, rate: rate, calls: loadCalls(t),
		stats: &loadStats{handshakes: map[string]int{}, firstSeen: map[string]time.Time{}}}
	for _, keepAlive := range []bool{true, false} {
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{
				RootCAs: roots, ServerName: serviceHost, MinVersion: tls.VersionTLS12,
				VerifyConnection: func(cs tls.ConnectionState) error {
					l.stats.handshake(cs.PeerCertificates[0].SerialNumber.String())
					return nil
				},
			},
			DisableKeepAlives:   !keepAlive,
			MaxIdleConnsPerHost: 16,
			ForceAttemptHTTP2:   false,
		}
		t.Cleanup(tr.CloseIdleConnections)
		l.clients = append(l.clients, &http.Client{Transport: tr, Timeout: 10 * time.Second})
	}
	return l
}

// run sends for d (or until stop), then waits for every answer.
func (l *loader) run(ctx context.Context, d time.Duration) *loadStats {
	interval := time.Second / time.Duration(l.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.After(d)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
		if l.stop != nil && l.stop() {
			break loop
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			l.one()
		}()
	}
	l.stats.stoppedAt = time.Now()
	wg.Wait()
	return l.stats
}

func (l *loader) one() {
	n := l.seq.Add(1)
	c := l.calls[int(n)%len(l.calls)]
	client := l.clients[int(n/int64(len(l.calls)))%len(l.clients)]
	uid := fmt.Sprintf("load-%d", n)
	body := review("admission.k8s.io/v1", uid, "Deployment", c.object)
	l.stats.mu.Lock()
	l.stats.sent++
	l.stats.mu.Unlock()
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, l.w.url(c.path), strings.NewReader(body))
	if err != nil {
		l.stats.fail("%s: %v", uid, err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		l.stats.fail("%s %s: %v", uid, c.name, err)
		return
	}
	defer resp.Body.Close()
	var ar admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		l.stats.fail("%s %s: HTTP %d, undecodable answer: %v", uid, c.name, resp.StatusCode, err)
		return
	}
	took := time.Since(start)
	switch {
	case resp.StatusCode != http.StatusOK:
		l.stats.fail("%s %s: HTTP %d", uid, c.name, resp.StatusCode)
	case ar.Response == nil || string(ar.Response.UID) != uid:
		l.stats.fail("%s %s: answer without the request's uid", uid, c.name)
	case ar.Response.Allowed != c.allowed:
		l.stats.fail("%s %s: allowed=%v, want %v (%v)", uid, c.name, ar.Response.Allowed, c.allowed, ar.Response.Result)
	case (len(ar.Response.Patch) > 0) != c.patched:
		l.stats.fail("%s %s: patch %q", uid, c.name, ar.Response.Patch)
	default:
		l.stats.mu.Lock()
		l.stats.ok++
		l.stats.latencies = append(l.stats.latencies, took)
		l.stats.mu.Unlock()
	}
}

// requireNoFailures fails the test listing the first failures.
func requireNoFailures(t *testing.T, s *loadStats) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 {
		n := min(len(s.failures), 10)
		t.Fatalf("%d of %d requests failed; first %d:\n%s", len(s.failures), s.sent, n, strings.Join(s.failures[:n], "\n"))
	}
}
