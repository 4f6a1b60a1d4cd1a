package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/review"
)

// Timeouts of the webhook listener. The API server sends a review at once and
// waits timeoutSeconds for the answer (5 in deploy/manifests, 30 at most); a
// caller slower than that is no API server, and its answer would be read by
// nobody. Everything a request can take ends within WriteTimeout, which the
// drain (DefaultShutdownTimeout, --shutdown-timeout 10s in the Deployment)
// outlasts, so a drain waits for no request that could still be answered.
const (
	// ReadHeaderTimeout bounds the TLS handshake and a request's headers
	// (slowloris), and with them a connection that never sends a request.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds a whole request, body included, from its first byte: a
	// body sent half and then held ends here, answered 408 in the time
	// WriteTimeout leaves.
	ReadTimeout = 5 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the end of
	// the answer: receiving the body, waiting for a judging slot, judging,
	// writing.
	WriteTimeout = 10 * time.Second
	// IdleTimeout closes keep-alive connections nobody uses. Longer than the 90s
	// after which the API server's client (client-go, Go's default transport)
	// drops an idle connection itself: the client should be the one to close,
	// or it may send a review on a connection the server is closing at that
	// instant, and a POST that fails so is not retried.
	IdleTimeout = 120 * time.Second
	// maxHeaderBytes: an AdmissionReview's headers are small.
	maxHeaderBytes = 64 << 10
)

// MaxReviewBytes is the size from which an AdmissionReview body is refused: 7 MiB,
// controller-runtime's admission.Webhook limit (a constant there, which cannot
// be raised). It is what an API server sends for storable objects: a review
// holds object and oldObject, each stored by etcd in at most 1.5 MiB (its
// --max-request-bytes default) of protobuf, which as JSON grows by the field
// names, about 2x for ordinary objects: 2 x 3 MiB plus 1 MiB for the rest of
// the review. Strings full of characters encoding/json escapes (quotes,
// backslashes, control characters 2-6x, and <, >, & 6x as \u003c) could make
// a storable object larger still; such a review is answered 413 (a webhook
// failure for the API server, so failurePolicy decides) instead of being read.
const MaxReviewBytes = 7 << 20

// Limits on what reviews in flight may hold, so that no caller, however many
// connections it opens, runs the process out of its memory limit (256 MiB in
// the Deployment, GOMEMLIMIT 230 MiB).
const (
	// maxBufferedBytes bounds the request bodies held in memory at once, being
	// received or waiting to be judged. Bodies are charged as they arrive, so a
	// slow or stalled sender holds only the bytes it has sent.
	maxBufferedBytes = 32 << 20
	// judgeBytes bounds the bodies being decoded and judged at once. Judging a
	// review allocates 5-10 times its body (measured for megabyte reviews:
	// controller-runtime's copy, the decoded review, the typed object, the
	// patch, an answer that repeats a megabyte kind); 8 MiB of bodies is at most
	// some 80 MiB, and still takes one review of the largest size.
	judgeBytes = 8 << 20
	// maxConcurrentReviews is how many reviews of any size are judged at once
	// (each weighs at least judgeBytes/maxConcurrentReviews); on 2 cores more
	// would only share the CPU.
	maxConcurrentReviews = 8
	// readChunk is the least a body buffer grows by.
	readChunk = 32 << 10
)

// limiter is what stands between a connection and the handlers: it reads a
// request's body before the request may take a judging slot, so slow senders
// hold no slot, and refuses with 429 what does not fit.
//
// Why 429, and when: to the API server a webhook that answers non-200 has
// failed, and the entry's failurePolicy decides (Fail: the object is refused;
// Ignore: admitted unjudged), unless the answer says Retry-After: client-go then
// sends the review again after that many seconds, within the same
// timeoutSeconds. So a review first waits for a slot, but for at most half the
// time the API server gives it (?timeout=5s on every call), and then gets 429
// with Retry-After: 1, leaving time for the retry; answering it a refusal
// inside the AdmissionReview instead would deny the object whatever the
// failurePolicy. A body that does not fit in maxBufferedBytes gets the 429 at
// once: waiting for memory while holding part of a body could leave every
// request waiting on the others.
type limiter struct {
	maxBody       int64
	maxBuffered   int64
	buffered      atomic.Int64
	judge         *semaphore.Weighted
	judgeCapacity int64
	minWeight     int64
	// writeTimeout bounds the wait for a slot together with receiving the body.
	writeTimeout time.Duration
}

func newLimiter(maxBody, maxBuffered, judgeCapacity int64, concurrent int, writeTimeout time.Duration) *limiter {
	return &limiter{
		maxBody: maxBody, maxBuffered: maxBuffered,
		judge: semaphore.NewWeighted(judgeCapacity), judgeCapacity: judgeCapacity, minWeight: judgeCapacity / int64(concurrent),
		writeTimeout: writeTimeout,
	}
}

// errBusy is a body that did not fit in maxBuffered.
var errBusy = errors.New("too many review bytes in flight")

// errTooLarge is a body over maxBody.
var errTooLarge = errors.New("request entity is too large")

func (l *limiter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.ContentLength >= l.maxBody {
			l.tooLarge(w)
			return
		}
		body, pooled, held, err := l.read(r)
		defer l.buffered.Add(-held)
		defer bodyBuffers.Put(pooled)
		switch {
		case errors.Is(err, errTooLarge):
			l.tooLarge(w)
			return
		case errors.Is(err, errBusy):
			shed(w, "memory", "the webhook is receiving too many large reviews at once; retry")
			return
		case err != nil:
			// A body not complete by ReadTimeout, or a caller gone.
			w.Header().Set("Connection", "close")
			http.Error(w, "reading the request body: "+err.Error(), http.StatusRequestTimeout)
			return
		}

		weight := min(max(int64(len(body)), l.minWeight), l.judgeCapacity)
		if !l.acquire(r, weight, start) {
			if r.Context().Err() != nil {
				return // the caller is gone; nobody reads an answer
			}
			shed(w, "queue", "no judging slot free within half the review's timeout; retry")
			return
		}
		defer l.judge.Release(weight)

		// Clipped: a pooled buffer's bytes past the body are an earlier request's.
		review.Hold(r, body[:len(body):len(body)])
		next.ServeHTTP(w, r)
	})
}

// acquire takes weight of the judging capacity for r, waiting until the slot
// deadline at most. A slot free at once is taken without a deadline context:
// its timer was 1 % of the server's CPU under load. TryAcquire takes nothing
// while others wait, so the queue stays first come, first served.
func (l *limiter) acquire(r *http.Request, weight int64, start time.Time) bool {
	if l.judge.TryAcquire(weight) {
		return true
	}
	ctx, cancel := context.WithDeadline(r.Context(), l.slotDeadline(r, start, time.Now()))
	defer cancel()
	return l.judge.Acquire(ctx, weight) == nil
}

// slotDeadline is until when a request whose body was read by now may wait for
// a judging slot: half the timeout the API server gives the call (its ?timeout=
// parameter), else half of writeTimeout; and never past nine tenths of
// writeTimeout after the request's start, leaving the rest to judge and answer.
func (l *limiter) slotDeadline(r *http.Request, start, now time.Time) time.Time {
	wait := l.writeTimeout / 2
	if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 && d/2 < wait {
		wait = d / 2
	}
	return minTime(now.Add(wait), start.Add(l.writeTimeout-l.writeTimeout/10))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// bodyBuffers are buffers of readChunk bytes, for the first readChunk bytes of
// a body: nearly every review fits, and its buffer was a fifth of the bytes a
// request allocated under load. A buffer goes back when the request's handler
// has returned: nothing judged keeps the body's bytes past its answer (the
// handlers run within ServeHTTP, and everything they keep is decoded copies).
var bodyBuffers = bufferPool{sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}}

type bufferPool struct{ sync.Pool }

func (p *bufferPool) Get() *[]byte { return p.Pool.Get().(*[]byte) }

// Put gives b back; nil is nothing to give.
func (p *bufferPool) Put(b *[]byte) {
	if b != nil {
		p.Pool.Put(b)
	}
}

// read reads the body into a buffer that grows as bytes arrive, charging each
// growth to buffered first. held is what was charged; the caller gives it back,
// and pooled to bodyBuffers once nothing reads body any more.
func (l *limiter) read(r *http.Request) (body []byte, pooled *[]byte, held int64, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil, 0, nil
	}
	grow := func(n int64) error {
		if l.buffered.Add(n) > l.maxBuffered {
			l.buffered.Add(-n)
			return errBusy
		}
		held += n
		return nil
	}
	// Grown to what the caller declared, at most, and never further ahead of
	// the bytes received than doubling: a caller that declares 7 MiB and sends a
	// few bytes holds a few bytes.
	declared := r.ContentLength
	for {
		if len(body) == cap(body) {
			switch {
			case declared >= 0 && int64(len(body)) == declared:
				return body, pooled, held, nil // http.Server ends a body at its Content-Length
			case int64(len(body)) >= l.maxBody:
				// As controller-runtime's limit: maxBody bytes are too many.
				return nil, pooled, held, errTooLarge
			}
			size := max(int64(2*cap(body)), readChunk)
			if declared > int64(len(body)) && size > declared {
				size = declared
			}
			size = min(size, l.maxBody)
			if err := grow(size - int64(cap(body))); err != nil {
				return nil, pooled, held, err
			}
			if body == nil && size <= readChunk {
				pooled = bodyBuffers.Get()
				body = (*pooled)[:0:size] // cut to size: the body grows as it did unpooled
				continue
			}
			nb := make([]byte, len(body), size)
			copy(nb, body)
			body = nb
			bodyBuffers.Put(pooled) // copied out of it
			pooled = nil
		}
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		switch {
		case errors.Is(err, io.EOF):
			return body, pooled, held, nil
		case err != nil:
			return nil, pooled, held, err
		}
	}
}

// tooLarge answers as controller-runtime's admission.Webhook does for a body
// over its limit: HTTP 200 with an AdmissionReview whose status is 413.
func (l *limiter) tooLarge(w http.ResponseWriter) {
	resp := admission.Errored(http.StatusRequestEntityTooLarge,
		fmt.Errorf("%w; limit is %d bytes", errTooLarge, l.maxBody))
	w.Header().Set("Content-Type", "application/json")
	// The rest of the body is not read; the connection cannot carry another request.
	w.Header().Set("Connection", "close")
	_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{Response: &resp.AdmissionResponse})
}

// shed answers 429 with Retry-After: 1 (see limiter) and counts it.
func shed(w http.ResponseWriter, reason, message string) {
	metrics.Shed.WithLabelValues(reason).Inc()
	w.Header().Set("Retry-After", "1")
	http.Error(w, message, http.StatusTooManyRequests)
}
