package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/laminar/ha-webhook/pkg/metrics"
)

// limited serves next behind l, counting the requests that reach next.
func limited(t *testing.T, l *limiter, next http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var reached atomic.Int64
	srv := httptest.NewServer(l.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		next(w, r)
	})))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		// Every byte charged is given back once the requests are over.
		srv.CloseClientConnections()
		require.Eventually(t, func() bool { return l.buffered.Load() == 0 }, 10*time.Second, time.Millisecond,
			"%d bytes still charged", l.buffered.Load())
	})
	return srv, &reached
}

// echo answers with the body it was given.
func echo(w http.ResponseWriter, r *http.Request) {
	if r.Body == http.NoBody {
		_, _ = io.WriteString(w, "no body")
		return
	}
	_, _ = io.Copy(w, r.Body)
}

// stall sends a request's headers announcing length bytes and the first sent
// bytes of its body, then nothing, on a connection of its own.
func stall(t *testing.T, srv *httptest.Server, length, sent int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = fmt.Fprintf(c, "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		length, strings.Repeat("x", sent))
	require.NoError(t, err)
	return c
}

func post(t *testing.T, url string, body []byte) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(out)
}

// A body being sent slowly holds the bytes it has sent, not the judging slot:
// with a single slot, a complete review is judged while it waits.
func TestLimiterSlowBodyHoldsNoSlot(t *testing.T) {
	l := newLimiter(1<<20, 1<<20, 1<<20, 1, 10*time.Second)
	srv, reached := limited(t, l, echo)
	stall(t, srv, 1000, 10)
	require.Eventually(t, func() bool { return l.buffered.Load() > 0 }, 10*time.Second, time.Millisecond,
		"the limiter reads the stalled body")

	resp, body := post(t, srv.URL, []byte(`{"review":1}`))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `{"review":1}`, body, "the handler reads the body the limiter read")
	assert.EqualValues(t, 1, reached.Load(), "the stalled request never reached the handler")
	assert.EqualValues(t, 1000, l.buffered.Load(), "the stalled request holds what its length allows, no more")
}

// Bodies that do not fit in what may be buffered are refused at once with 429
// and Retry-After, so that the API server's client retries.
func TestLimiterShedsWhatDoesNotFit(t *testing.T) {
	l := newLimiter(1<<20, 100<<10, 1<<20, 1, 10*time.Second)
	srv, reached := limited(t, l, echo)
	// The stalled body's buffer has grown to 64 KiB of the 100 KiB.
	stall(t, srv, 200_000, 60_000)
	require.Eventually(t, func() bool { return l.buffered.Load() == 64<<10 }, 10*time.Second, time.Millisecond)

	before := testutil.ToFloat64(metrics.Shed.WithLabelValues("memory"))
	resp, body := post(t, srv.URL, bytes.Repeat([]byte("y"), 40_000))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "too many large reviews at once")
	assert.Equal(t, before+1, testutil.ToFloat64(metrics.Shed.WithLabelValues("memory")))
	assert.Zero(t, reached.Load())

	// A small one still fits beside the stalled body.
	resp, _ = post(t, srv.URL, []byte(`{}`))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// With every slot busy a review waits half the timeout its caller gives, then
// gets 429 with Retry-After, while the slot's holder is still being judged.
func TestLimiterQueueWaitsHalfTheCallersTimeout(t *testing.T) {
	l := newLimiter(1<<20, 1<<20, 1<<20, 1, 10*time.Second)
	entered, release := make(chan struct{}), make(chan struct{})
	srv, _ := limited(t, l, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") != "" {
			close(entered)
			<-release
		}
		echo(w, r)
	})
	held := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL+"?hold=1", "application/json", strings.NewReader(`{}`))
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	<-entered

	before := testutil.ToFloat64(metrics.Shed.WithLabelValues("queue"))
	resp, body := post(t, srv.URL+"?timeout=200ms", []byte(`{}`))
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, before+1, testutil.ToFloat64(metrics.Shed.WithLabelValues("queue")))
	close(release)
	assert.Equal(t, http.StatusOK, <-held)

	resp, _ = post(t, srv.URL+"?timeout=200ms", []byte(`{}`))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the slot is free again")
}

func TestSlotDeadline(t *testing.T) {
	l := newLimiter(1<<20, 1<<20, 1<<20, 1, 10*time.Second)
	start := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start.Add(100 * time.Millisecond)
	for _, c := range []struct {
		query string
		want  time.Time
	}{
		{"?timeout=5s", now.Add(2500 * time.Millisecond)},     // what the API server sends: half of it
		{"", now.Add(5 * time.Second)},                        // not an API server: half of WriteTimeout
		{"?timeout=30s", now.Add(5 * time.Second)},            // never more than that
		{"?timeout=soon", now.Add(5 * time.Second)},           // unreadable: as if absent
		{"?timeout=-1s", now.Add(5 * time.Second)},            // nonsense: as if absent
		{"?timeout=5s&x=1", now.Add(2500 * time.Millisecond)}, // other parameters do not matter
	} {
		r := httptest.NewRequest(http.MethodPost, "/validate"+c.query, nil)
		assert.Equal(t, c.want, l.slotDeadline(r, start, now), c.query)
	}
	// A body that took long leaves less: nine tenths of WriteTimeout after the start at most.
	late := start.Add(8 * time.Second)
	r := httptest.NewRequest(http.MethodPost, "/validate?timeout=5s", nil)
	assert.Equal(t, start.Add(9*time.Second), l.slotDeadline(r, start, late))
}

// A body of the limit or more is answered as controller-runtime answers it, an
// AdmissionReview with status 413, without being read; one below is passed on
// intact, and an empty one as NoBody.
func TestLimiterBodySize(t *testing.T) {
	l := newLimiter(1000, 1<<20, 1<<20, 1, 10*time.Second)
	srv, reached := limited(t, l, echo)
	tooLarge := func(resp *http.Response, body string) {
		t.Helper()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		var ar admissionv1.AdmissionReview
		require.NoError(t, json.Unmarshal([]byte(body), &ar), body)
		require.NotNil(t, ar.Response)
		require.NotNil(t, ar.Response.Result)
		assert.False(t, ar.Response.Allowed)
		assert.EqualValues(t, http.StatusRequestEntityTooLarge, ar.Response.Result.Code)
		assert.Equal(t, "request entity is too large; limit is 1000 bytes", ar.Response.Result.Message)
	}
	for _, n := range []int{5000, 1000} {
		resp, body := post(t, srv.URL, bytes.Repeat([]byte("z"), n))
		tooLarge(resp, body)
	}
	// Without a Content-Length (chunked), found out while reading.
	resp, err := http.Post(srv.URL, "application/json", io.MultiReader(strings.NewReader(strings.Repeat("z", 3000))))
	require.NoError(t, err)
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	tooLarge(resp, string(out))
	assert.Zero(t, reached.Load(), "no oversized body reached the handler")

	within := bytes.Repeat([]byte("w"), 999)
	resp, body := post(t, srv.URL, within)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, string(within), body)
	resp, body = post(t, srv.URL, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no body", body, "an empty body stays NoBody: controller-runtime answers it 'request body is empty'")
}

// The limits agree with each other and with the drain.
func TestTimeoutsFitTheDrain(t *testing.T) {
	assert.LessOrEqual(t, ReadHeaderTimeout, ReadTimeout)
	assert.Less(t, ReadTimeout, WriteTimeout, "a body cut by ReadTimeout can still be answered 408")
	assert.LessOrEqual(t, WriteTimeout, DefaultShutdownTimeout, "the drain outlasts every request")
	assert.Greater(t, IdleTimeout, 90*time.Second, "API servers (client-go) drop idle connections after 90s, before the webhook does")
	assert.LessOrEqual(t, int64(MaxReviewBytes), int64(judgeBytes), "a review of the largest size can be judged")
}

// Every body MUST reach the handler as sent, whether it fits a pooled buffer,
// fills one exactly, outgrows one or comes without a Content-Length, and a
// buffer MUST serve one request at a time: concurrent requests each see only
// their own bytes.
func TestLimiterBodiesAroundThePooledBuffer(t *testing.T) {
	l := newLimiter(1<<20, 64<<20, 1<<30, 64, 10*time.Second)
	srv, _ := limited(t, l, echo)
	body := func(n int, fill byte) []byte {
		b := bytes.Repeat([]byte{fill}, n)
		b[0], b[n-1] = '<', '>' // a lost first or last byte shows
		return b
	}
	for i, n := range []int{1, 2, 5 << 10, readChunk - 1, readChunk, readChunk + 1, 3 * readChunk, 100 << 10} {
		want := body(max(n, 2), byte('a'+i))
		resp, got := post(t, srv.URL, want)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, string(want), got, "%d bytes with a Content-Length", n)
		// Chunked: the buffer is readChunk bytes first, however long the body.
		resp, err := http.Post(srv.URL, "application/json", io.MultiReader(bytes.NewReader(want)))
		require.NoError(t, err)
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, string(want), string(out), "%d bytes chunked", n)
	}

	const clients, rounds = 16, 20
	var wrong atomic.Int64
	done := make(chan struct{})
	for c := range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			for r := range rounds {
				want := body(1<<10+c*97+r, byte('A'+c))
				resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(want))
				if err != nil {
					wrong.Add(1)
					continue
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(got, want) {
					wrong.Add(1)
				}
			}
		}()
	}
	for range clients {
		<-done
	}
	assert.Zero(t, wrong.Load(), "answers that were not the request's own body")
}
