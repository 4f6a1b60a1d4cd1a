package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// Target is one webhook process under load.
type Target struct {
	Name string
	URL  string // https://127.0.0.1:PORT
	PID  int
	// Noop: every answer must be allowed with no patch; otherwise the corpus's
	// expected answers apply.
	Noop bool
}

// newClient is an HTTP/1.1 keep-alive client over TLS, as the API server's
// webhook client is, with at most conns connections.
func newClient(caPEM []byte, conns int) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate")
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // no h2
		MaxConnsPerHost:     conns,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, nil
}

// answerShape is the part of an AdmissionReview response the load run checks.
// It is read with encoding/json/v2, which reads a patched answer about four
// times as fast as encoding/json does: the load generator shares the machine's two
// cores with the server it measures, and with encoding/json a patched answer
// of ours (2.3 KiB) cost it 32 µs against 4.5 µs for the no-op's empty one,
// charging our patches' size to the throughput ratio; with v2 it is 8 against
// 2.4 µs (docs/performance.md). The checks are the same, and v2 refuses a
// member written twice besides.
type answerShape struct {
	Response *struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Patch   []byte `json:"patch"`
		Status  *struct {
			Code int32 `json:"code"`
		} `json:"status"`
	} `json:"response"`
}

// send posts one review and checks the answer: HTTP 200, a response for this
// UID, and the expected verdict. A wrong answer is an error.
func send(ctx context.Context, c *http.Client, t Target, r *Review) error {
	status, body, err := post(ctx, c, t.URL+r.Path, r.Body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", r.Name, status)
	}
	var a answerShape
	if err := jsonv2.Unmarshal(body, &a); err != nil || a.Response == nil {
		return fmt.Errorf("%s: unreadable answer: %v", r.Name, err)
	}
	if a.Response.UID != r.UID {
		return fmt.Errorf("%s: answer for uid %q", r.Name, a.Response.UID)
	}
	if st := a.Response.Status; st != nil && (st.Code == http.StatusBadRequest || st.Code >= 500) {
		return fmt.Errorf("%s: webhook error %d", r.Name, st.Code)
	}
	wantAllowed, wantPatch := r.WantAllowed, r.WantPatch
	if t.Noop {
		wantAllowed, wantPatch = true, false
	}
	if a.Response.Allowed != wantAllowed || (len(a.Response.Patch) > 0) != wantPatch {
		return fmt.Errorf("%s: allowed=%v patch=%v, want allowed=%v patch=%v", r.Name, a.Response.Allowed, len(a.Response.Patch) > 0, wantAllowed, wantPatch)
	}
	return nil
}

// post sends an AdmissionReview to url as the API server does and returns
// the answer's HTTP status and body.
func post(ctx context.Context, c *http.Client, url string, review []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(review))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, */*")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, body, err
}

// Result is one phase against one target.
type Result struct {
	Target   string
	Mode     string
	Elapsed  time.Duration // from the first send to the last answer
	Requests int           // answered, successfully or not
	Errors   int
	// FirstErr is the first error seen, for the report.
	FirstErr string
	// Latencies of the successful requests, sorted.
	Latencies []time.Duration
	// ServerCPU is the server process's user+system time during the phase.
	ServerCPU time.Duration
	// ClientCPU is this process's (the load generator's) CPU time during the phase.
	ClientCPU time.Duration
	// BySchedule is every open-loop request's latency in the order they were
	// due (zero for errors): the phase's timeline, turn after turn.
	BySchedule []time.Duration
	// Turns is how many turns the phase was driven in (see Config.Turn).
	Turns int
}

// merge adds turn t of a phase to r: its requests, errors, time, CPU and
// latencies (r.Latencies is left unsorted).
func (r *Result) merge(t Result) {
	if r.Target == "" {
		r.Target, r.Mode = t.Target, t.Mode
	}
	r.Elapsed += t.Elapsed
	r.Requests += t.Requests
	r.Errors += t.Errors
	if r.FirstErr == "" {
		r.FirstErr = t.FirstErr
	}
	r.Latencies = append(r.Latencies, t.Latencies...)
	r.ServerCPU += t.ServerCPU
	r.ClientCPU += t.ClientCPU
	r.BySchedule = append(r.BySchedule, t.BySchedule...)
}

// Throughput is answered requests per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Quantile of the successful requests' latency (nearest rank).
func (r Result) Quantile(q float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(q*float64(n)+0.5) - 1
	i = min(max(i, 0), n-1)
	return r.Latencies[i]
}

// CPUPerRequest is the server's CPU time per answered request.
func (r Result) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Requests)
}

// recorder collects one phase's outcomes from many goroutines.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    int
	firstErr  string
	last      time.Time
}

func (rec *recorder) add(lat time.Duration, err error, done time.Time) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err != nil {
		rec.errors++
		if rec.firstErr == "" {
			rec.firstErr = err.Error()
		}
	} else {
		rec.latencies = append(rec.latencies, lat)
	}
	if done.After(rec.last) {
		rec.last = done
	}
}

func (rec *recorder) result(t Target, mode string, start time.Time) Result {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	sort.Slice(rec.latencies, func(i, j int) bool { return rec.latencies[i] < rec.latencies[j] })
	return Result{Target: t.Name, Mode: mode, Elapsed: rec.last.Sub(start), Requests: len(rec.latencies) + rec.errors,
		Errors: rec.errors, FirstErr: rec.firstErr, Latencies: rec.latencies}
}

// warmUp sends each review once over every connection the phase will use, so
// that handshakes, first-use allocations and the server's GC pacing are not
// measured.
func warmUp(ctx context.Context, c *http.Client, t Target, corpus Corpus, conns int) error {
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range corpus.Reviews {
				if err := send(ctx, c, t, &corpus.Reviews[(i+w)%len(corpus.Reviews)]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// ClosedLoop keeps `workers` requests in flight for d (each worker sends its next
// request when the previous one is answered): the throughput the server
// sustains with that much concurrency.
func ClosedLoop(ctx context.Context, c *http.Client, t Target, corpus Corpus, workers int, d time.Duration) Result {
	var next atomic.Int64
	rec := &recorder{latencies: make([]time.Duration, 0, 1<<14)}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := time.Now()
				if !s.Before(deadline) {
					return
				}
				r := &corpus.Reviews[int(next.Add(1)-1)%len(corpus.Reviews)]
				err := send(ctx, c, t, r)
				done := time.Now()
				rec.add(done.Sub(s), err, done)
			}
		}()
	}
	wg.Wait()
	return rec.result(t, fmt.Sprintf("closed loop, %d in flight", workers), start)
}

// OpenLoop sends rate requests per second for d, whatever the answers do, with
// at most workers in flight (and as many connections). Latency counts from the
// moment a request was due, so a server that falls behind is charged for the
// queue it causes (no coordinated omission). Requests still unanswered 10s
// after the end count as errors.
func OpenLoop(ctx context.Context, c *http.Client, t Target, corpus Corpus, rate, workers int, d time.Duration) Result {
	total := int(float64(rate) * d.Seconds())
	due := make(chan int, total)
	rec := &recorder{latencies: make([]time.Duration, 0, total)}
	interval := time.Second / time.Duration(rate)
	bySchedule := make([]time.Duration, total)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range due {
				at := start.Add(time.Duration(i) * interval)
				if ctx.Err() != nil {
					rec.add(0, ctx.Err(), time.Now())
					continue
				}
				err := send(ctx, c, t, &corpus.Reviews[i%len(corpus.Reviews)])
				done := time.Now()
				if err == nil {
					bySchedule[i] = done.Sub(at) // each index is written by one worker only
				}
				rec.add(done.Sub(at), err, done)
			}
		}()
	}
	// The scheduler: release every request whose time has come, then sleep.
	sent := 0
	for sent < total && ctx.Err() == nil {
		now := time.Since(start)
		for sent < total && time.Duration(sent)*interval <= now {
			due <- sent
			sent++
		}
		time.Sleep(min(interval, time.Millisecond))
	}
	close(due)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		rec.add(0, errors.New("requests unanswered 10s after the phase"), time.Now())
		return rec.result(t, fmt.Sprintf("open loop, %d req/s", rate), start)
	}
	r := rec.result(t, fmt.Sprintf("open loop, %d req/s", rate), start)
	r.BySchedule = bySchedule
	return r
}
