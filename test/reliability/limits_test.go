package reliability

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/internal/parentdeath"
	"github.com/laminar/ha-webhook/pkg/server"
)

// shipped is what the Deployment in deploy/manifests gives the webhook's
// container: its memory limit and GOMEMLIMIT.
type shipped struct {
	memoryLimit int64
	goMemLimit  string
}

func shippedContainer(t *testing.T) shipped {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "manifests", "deployment.yaml"))
	require.NoError(t, err)
	var d appsv1.Deployment
	require.NoError(t, yaml.UnmarshalStrict(raw, &d))
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	c := d.Spec.Template.Spec.Containers[0]
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	require.True(t, ok, "the container has a memory limit")
	s := shipped{memoryLimit: limit.Value()}
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			s.goMemLimit = e.Value
		}
	}
	require.NotEmpty(t, s.goMemLimit, "the container sets GOMEMLIMIT")
	return s
}

// startShipped runs the binary with the Deployment's GOMEMLIMIT, as in a pod.
func startShipped(t *testing.T, certDir string, s shipped) *webhook {
	t.Helper()
	return startWebhookEnv(t, certDir, []string{"GOMEMLIMIT=" + s.goMemLimit})
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func memory(t *testing.T, w *webhook) parentdeath.Memory {
	t.Helper()
	m, err := parentdeath.ReadMemory(w.cmd.Process.Pid)
	require.NoError(t, err)
	return m
}

// hostile is one connection a caller opens and then starves.
type hostile struct {
	kind   string
	opened time.Time
	// first is what the server wrote before closing, if anything.
	first  string
	closed chan struct{}
	after  time.Duration // from opened until the server closed it
}

// watch reads until the server closes the connection.
func (h *hostile) watch(c net.Conn) {
	defer close(h.closed)
	buf := make([]byte, 512)
	var got strings.Builder
	for {
		n, err := c.Read(buf)
		if got.Len() < 64 {
			got.Write(buf[:n])
		}
		if err != nil {
			h.after = time.Since(h.opened)
			h.first = got.String()
			_ = c.Close()
			return
		}
	}
}

// TestSlowAndIdleConnections opens 1,000 connections that never complete a
// review — 250 each: TCP without a TLS handshake, a handshake and then silence,
// request headers one byte every 200 ms, and headers with half the body they
// announce — then sends real reviews while they are held. Every review must be
// answered correctly, the process must stay under the Deployment's memory
// limit, and the server must close each hostile connection by its timeouts
// (ReadHeaderTimeout for the first three, ReadTimeout for the half body), not
// wait for the caller.
func TestSlowAndIdleConnections(t *testing.T) {
	const perKind = 250
	limits := shippedContainer(t)
	ca := newAuthority(t)
	certDir := t.TempDir()
	writeServing(t, certDir, ca.issue(t))
	w := startShipped(t, certDir, limits)
	// The same reviews as below, before any hostile connection: the baseline.
	const reviews = 90
	baseline := newLoader(t, w, 1, ca.pool)
	for range reviews {
		baseline.one()
	}
	requireNoFailures(t, baseline.stats)
	before := memory(t, w)
	addr := fmt.Sprintf("127.0.0.1:%d", w.port)
	tlsConfig := &tls.Config{RootCAs: ca.pool, ServerName: serviceHost, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}

	const slowHeader = "POST /validate?timeout=5s HTTP/1.1\r\nHost: " + serviceHost + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Padding: "
	const halfBody = 32 << 10
	kinds := []string{"tcp, no handshake", "TLS handshake, no request", "headers a byte at a time", "half a body"}
	var (
		mu        sync.Mutex
		all       []*hostile
		slow      []net.Conn // the byte-at-a-time ones, fed by one ticker
		setupWG   sync.WaitGroup
		setupErrs atomic.Int64
	)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	sem := make(chan struct{}, 32) // dials in flight
	for k, kind := range kinds {
		for range perKind {
			setupWG.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; setupWG.Done() }()
				h := &hostile{kind: kind, closed: make(chan struct{}), opened: time.Now()}
				raw, err := dialer.Dial("tcp", addr)
				if err != nil {
					setupErrs.Add(1)
					return
				}
				var c net.Conn = raw
				if k > 0 {
					tc := tls.Client(raw, tlsConfig)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err := tc.HandshakeContext(ctx)
					cancel()
					if err != nil {
						setupErrs.Add(1)
						_ = raw.Close()
						return
					}
					c = tc
				}
				switch k {
				case 2:
					mu.Lock()
					slow = append(slow, c)
					mu.Unlock()
				case 3:
					head := fmt.Sprintf("POST /validate?timeout=5s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", serviceHost, 2*halfBody)
					if _, err := io.WriteString(c, head+strings.Repeat(" ", halfBody)); err != nil {
						setupErrs.Add(1)
						_ = c.Close()
						return
					}
				}
				mu.Lock()
				all = append(all, h)
				mu.Unlock()
				go h.watch(c)
			}()
		}
	}
	setupWG.Wait()
	require.Zero(t, setupErrs.Load(), "every hostile connection was opened")
	require.Len(t, all, perKind*len(kinds))

	// One byte of header every 200 ms on each slow connection, until the server
	// has closed them all.
	stopFeeding := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopFeeding:
				return
			case <-tick.C:
			}
			b := []byte{slowHeader[i%len(slowHeader)]}
			for _, c := range slow {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write(b)
			}
		}
	}()
	defer func() { close(stopFeeding); <-fed }()

	// Real reviews while they are held: a mutation, a compliant and a denied
	// validation in turn, over a keep-alive pool and over fresh connections.
	l := newLoader(t, w, 1, ca.pool)
	reviewStart := time.Now()
	for range reviews {
		l.one()
	}
	reviewTime := time.Since(reviewStart)
	held := map[string]int{}
	for _, h := range all {
		select {
		case <-h.closed:
		default:
			held[h.kind]++
		}
	}
	whileHeld := memory(t, w)
	requireNoFailures(t, l.stats)
	require.EqualValues(t, reviews, l.stats.ok)

	// Each is closed by the server; the bound only catches a server that never does.
	bound := 3 * server.ReadTimeout
	closedAfter := map[string][]time.Duration{}
	for _, h := range all {
		select {
		case <-h.closed:
		case <-time.After(time.Until(h.opened.Add(bound))):
			t.Fatalf("%s: the server has not closed the connection after %s", h.kind, bound)
		}
		closedAfter[h.kind] = append(closedAfter[h.kind], h.after)
		if h.kind == "half a body" {
			assert.True(t, strings.HasPrefix(h.first, "HTTP/1.1 408"), "a half body is answered 408 before the close: %q", h.first)
		}
	}
	peak := memory(t, w).Peak
	assert.Less(t, peak, limits.memoryLimit, "peak RSS %s under the Deployment's memory limit %s", mib(peak), mib(limits.memoryLimit))

	var closes []string
	for _, kind := range kinds {
		d := closedAfter[kind]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		assert.Positive(t, held[kind], "%s: none was still open when the reviews were done", kind)
		closes = append(closes, fmt.Sprintf("%s: %d held during the reviews, closed by the server after %s–%s", kind, held[kind],
			d[0].Round(10*time.Millisecond), d[len(d)-1].Round(10*time.Millisecond)))
	}
	t.Logf("figures: %d hostile connections (%d of each kind); %d reviews answered correctly in %s while held: %s "+
		"(before them: %s); RSS %s before, %s while held, peak %s (limit %s, GOMEMLIMIT %s); %s",
		len(all), perKind, reviews, reviewTime.Round(time.Millisecond), l.stats.summary(), baseline.stats.summary(),
		mib(before.RSS), mib(whileHeld.RSS), mib(peak), mib(limits.memoryLimit), limits.goMemLimit, strings.Join(closes, "; "))
}

// TestMegabyteReviews sends 300 reviews of a megabyte and more at once, each on
// its own connection — a request kind of 1 MiB, a denied Deployment and a
// mutated one each carrying a 1 MiB annotation, 100 of each — and retries
// those answered 429 after their Retry-After, as the API server's client does.
// Every review must get its right answer and the process's peak RSS must stay
// under the Deployment's memory limit.
func TestMegabyteReviews(t *testing.T) {
	const perCall, size = 100, 1 << 20
	limits := shippedContainer(t)
	ca := newAuthority(t)
	certDir := t.TempDir()
	writeServing(t, certDir, ca.issue(t))
	w := startShipped(t, certDir, limits)
	before := memory(t, w)

	bad := fixtureJSON(t, "admission/api-bad.yaml")
	minimal := fixtureJSON(t, "mutate/api-minimal.yaml")
	filler := strings.Repeat("<laminar/>", size/10)
	annotated := func(object string) string {
		out := strings.Replace(object, `"name":"laminar-api"`, `"name":"laminar-api","annotations":{"filler":"`+filler+`"}`, 1)
		require.NotEqual(t, object, out)
		return out
	}
	type megaCall struct {
		name, path, kind, object string
		allowed, patched         bool
	}
	calls := []megaCall{
		{name: "1 MiB kind", path: "/validate", kind: strings.Repeat("K", size), object: bad, allowed: true},
		{name: "denied, 1 MiB annotation", path: "/validate", kind: "Deployment", object: annotated(bad)},
		{name: "mutated, 1 MiB annotation", path: "/mutate", kind: "Deployment", object: annotated(minimal), allowed: true, patched: true},
	}
	// One body per call, shared: each request reads it around its own uid, so
	// the test holds three megabytes, not three hundred.
	const placeholder = "UID-PLACEHOLDER"
	type split struct{ head, tail string }
	bodies := make([]split, len(calls))
	sizes := make([]int, len(calls))
	for i, c := range calls {
		b := review("admission.k8s.io/v1", placeholder, c.kind, c.object)
		head, tail, ok := strings.Cut(b, placeholder)
		require.True(t, ok)
		bodies[i], sizes[i] = split{head, tail}, len(b)
	}

	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: ca.pool, ServerName: serviceHost, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 3 * perCall,
	}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var retried atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 3*perCall)
	start := time.Now()
	for i := range 3 * perCall {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := calls[i%len(calls)]
			uid := fmt.Sprintf("mb-%09d", i)
			b := bodies[i%len(calls)]
			for {
				body := io.MultiReader(strings.NewReader(b.head), strings.NewReader(uid), strings.NewReader(b.tail))
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url(c.path)+"?timeout=5s", body)
				if err != nil {
					errs <- err
					return
				}
				req.ContentLength = int64(len(b.head) + len(uid) + len(b.tail))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs <- fmt.Errorf("%s %s: %w", uid, c.name, err)
					return
				}
				if resp.StatusCode == http.StatusTooManyRequests {
					after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if err != nil {
						errs <- fmt.Errorf("%s: 429 without a Retry-After in seconds: %w", uid, err)
						return
					}
					retried.Add(1)
					select {
					case <-ctx.Done():
						errs <- fmt.Errorf("%s: still refused: %w", uid, ctx.Err())
						return
					case <-time.After(time.Duration(after) * time.Second):
					}
					continue
				}
				var ar admissionv1.AdmissionReview
				err = json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&ar)
				_ = resp.Body.Close()
				switch {
				case err != nil:
					errs <- fmt.Errorf("%s %s: HTTP %d, undecodable answer: %w", uid, c.name, resp.StatusCode, err)
				case resp.StatusCode != http.StatusOK || ar.Response == nil || string(ar.Response.UID) != uid:
					errs <- fmt.Errorf("%s %s: HTTP %d, answer %+v", uid, c.name, resp.StatusCode, ar.Response)
				case ar.Response.Allowed != c.allowed || (len(ar.Response.Patch) > 0) != c.patched:
					errs <- fmt.Errorf("%s %s: allowed %v patch %d bytes, want allowed %v patched %v (%v)", uid, c.name,
						ar.Response.Allowed, len(ar.Response.Patch), c.allowed, c.patched, ar.Response.Result)
				}
				return
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	var failures []string
	for err := range errs {
		failures = append(failures, err.Error())
	}
	if len(failures) > 0 {
		n := min(len(failures), 10)
		t.Fatalf("%d of %d reviews failed; first %d:\n%s", len(failures), 3*perCall, n, strings.Join(failures[:n], "\n"))
	}
	peak := memory(t, w).Peak
	assert.Less(t, peak, limits.memoryLimit, "peak RSS %s under the Deployment's memory limit %s", mib(peak), mib(limits.memoryLimit))
	memoryShed := w.metricValue(t, `laminar_ha_requests_shed_total{reason="memory"}`)
	queueShed := w.metricValue(t, `laminar_ha_requests_shed_total{reason="queue"}`)
	assert.EqualValues(t, retried.Load(), memoryShed+queueShed, "every 429 is counted")
	t.Logf("figures: %d reviews of %s–%s at once, all answered correctly in %s; 429 then retried: %d (memory %.0f, queue %.0f); "+
		"RSS %s before, peak %s (limit %s, GOMEMLIMIT %s)",
		3*perCall, mib(int64(min(sizes[0], sizes[1], sizes[2]))), mib(int64(max(sizes[0], sizes[1], sizes[2]))),
		took.Round(time.Millisecond), retried.Load(), memoryShed, queueShed, mib(before.RSS), mib(peak), mib(limits.memoryLimit), limits.goMemLimit)
}
