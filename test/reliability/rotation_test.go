package reliability

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCertRotationUnderLoad drives admission requests at a fixed rate while the
// serving certificate is replaced twice, the way a kubelet updates a Secret
// volume (cert-manager renewal: same CA, new key and serial). Every request must
// succeed, with a client that verifies the certificate against the CA, and
// fresh handshakes must get the new serial.
//
// In `make test`: 200 req/s for 6 s, rotations at 2 s and 4 s. With
// RELIABILITY_FULL=1: 200 req/s for 30 s, rotations at 10 s and 20 s.
func TestCertRotationUnderLoad(t *testing.T) {
	const rate = 200
	duration := 6 * time.Second
	if os.Getenv("RELIABILITY_FULL") != "" {
		duration = 30 * time.Second
	}
	ca := newAuthority(t)
	certDir := t.TempDir()
	first := ca.issue(t)
	writeServing(t, certDir, first)
	w := startWebhook(t, certDir)
	require.Equal(t, first.serial, w.servedSerial(t))

	l := newLoader(t, w, rate, ca.pool)
	ctx, cancel := context.WithTimeout(context.Background(), duration+30*time.Second)
	defer cancel()
	done := make(chan *loadStats, 1)
	start := time.Now()
	go func() { done <- l.run(ctx, duration) }()

	var rotations []issued
	var rotatedAt []time.Time
	for i := 1; i <= 2; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * duration / 3)))
		c := ca.issue(t)
		writeServing(t, certDir, c)
		rotations = append(rotations, c)
		rotatedAt = append(rotatedAt, time.Now())
	}
	stats := <-done
	elapsed := stats.stoppedAt.Sub(start)

	requireNoFailures(t, stats)
	assert.GreaterOrEqual(t, float64(stats.sent), 0.75*rate*elapsed.Seconds(), "the load fell far behind its rate")
	last := rotations[len(rotations)-1]
	assert.Equal(t, last.serial, w.servedSerial(t), "the newest certificate is served")

	stats.mu.Lock()
	lags := make([]time.Duration, len(rotations))
	for i, c := range rotations {
		seen, ok := stats.firstSeen[c.serial]
		require.True(t, ok, "no handshake ever got rotation %d's certificate (serial %s)", i+1, c.serial)
		lags[i] = seen.Sub(rotatedAt[i])
		assert.Less(t, lags[i], 2*time.Second, "rotation %d took effect late", i+1)
	}
	byCert := []int{stats.handshakes[first.serial], stats.handshakes[rotations[0].serial], stats.handshakes[last.serial]}
	unknown := 0
	for serial, n := range stats.handshakes {
		if serial != first.serial && serial != rotations[0].serial && serial != last.serial {
			unknown += n
		}
	}
	stats.mu.Unlock()
	assert.Zero(t, unknown, "handshakes with a certificate never written")
	reads := w.metricValue(t, "certwatcher_read_certificate_total")
	readErrors := w.metricValue(t, "certwatcher_read_certificate_errors_total")

	t.Logf("figures: cert rotation: %d req/s for %s, 2 rotations (kubelet ..data swap): %s; "+
		"handshakes per certificate %v; new certificate first served %s and %s after the swap; "+
		"certwatcher reads %.0f, read errors %.0f",
		rate, elapsed.Round(time.Millisecond), stats.summary(), byCert,
		lags[0].Round(time.Millisecond), lags[1].Round(time.Millisecond), reads, readErrors)
}
