package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// TestLoadCommandWorks runs the load command briefly at a low rate: both
// servers build, start and answer every review of the mix correctly, and the
// figures are printed. Their values are not asserted: this machine's are not
// a pass/fail criterion.
func TestLoadCommandWorks(t *testing.T) {
	rep, text := runBriefly(t, "builds and starts two webhook servers", 3*time.Minute, Config{
		Duration: 500 * time.Millisecond, Turn: 200 * time.Millisecond, Concurrency: 2, Rate: 40, RateConns: 4, Repeat: 1,
		Modes: []string{"closed", "open"}, Handler: true, E2ERequests: 1,
	})

	require.Len(t, rep.Handler, 4, "two phases against two servers")
	for _, r := range rep.Handler {
		assert.Zero(t, r.Errors, "%s, %s: first error: %s", r.Target, r.Mode, r.FirstErr)
		assert.Positive(t, r.Requests, "%s, %s", r.Target, r.Mode)
		assert.Equal(t, 3, r.Turns, "%s, %s: 500ms in turns of 200ms", r.Target, r.Mode)
		assert.Len(t, r.Latencies, r.Requests-r.Errors, "every turn's latencies kept")
		assert.True(t, slices.IsSorted(r.Latencies), "%s, %s: latencies sorted for the quantiles", r.Target, r.Mode)
	}
	for _, name := range []string{"no-op", "laminar"} {
		assert.Positive(t, rep.Memory[name].Peak, name)
	}
	for _, want := range []string{"review mix:", "closed loop, 2 in flight", "open loop, 40 req/s", "p99", "ratio laminar/no-op:", "peak RSS (VmHWM)"} {
		assert.Contains(t, text, want)
	}
	assert.Equal(t, 2, strings.Count(text, "ratio laminar/no-op:"), text)
	assert.Contains(t, text, "in 3 turns of 200ms, taken in alternation")
}

// runBriefly runs the load command with c in the repository within d, and
// returns its report and what it printed; in -short mode it skips, saying why.
func runBriefly(t *testing.T, why string, d time.Duration, c Config) (Report, string) {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	ctrllog.SetLogger(logr.Discard())
	root, err := devenv.FindRepoRoot()
	require.NoError(t, err)
	c.RepoRoot = root
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, progress bytes.Buffer
	rep, err := Run(ctx, c, &out, &progress)
	require.NoError(t, err, progress.String())
	return rep, out.String()
}

func TestTurnLengths(t *testing.T) {
	s, ms := time.Second, time.Millisecond
	assert.Equal(t, slices.Repeat([]time.Duration{500 * ms}, 8), turnLengths(4*s, 500*ms))
	assert.Equal(t, []time.Duration{300 * ms, 300 * ms, 300 * ms, 100 * ms}, turnLengths(s, 300*ms), "the last turn is what is left")
	assert.Equal(t, []time.Duration{4 * s}, turnLengths(4*s, 0), "no turns: the whole phase at once")
	assert.Equal(t, []time.Duration{4 * s}, turnLengths(4*s, 4*s))
}

// TestCorpusCoversTheMix: the review mix holds what the issue asks for —
// mutate and validate, api Deployments and controller StatefulSets, compliant
// and non-compliant, unrelated Deployments, creates and updates.
func TestCorpusCoversTheMix(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	root, err := devenv.FindRepoRoot()
	require.NoError(t, err)
	c, err := BuildCorpus(root)
	require.NoError(t, err)
	has := func(pred func(Review) bool) bool {
		for _, r := range c.Reviews {
			if pred(r) {
				return true
			}
		}
		return false
	}
	body := func(r Review, s string) bool { return strings.Contains(string(r.Body), s) }
	assert.True(t, has(func(r Review) bool { return r.Path == "/mutate" && r.WantPatch }), "a mutation with a patch")
	assert.True(t, has(func(r Review) bool { return r.Path == "/mutate" && !r.WantPatch }), "a mutation without a patch")
	assert.True(t, has(func(r Review) bool { return r.Path == "/validate" && !r.WantAllowed }), "a denial")
	assert.True(t, has(func(r Review) bool { return r.Path == "/validate" && r.WantAllowed }), "an admitted object")
	assert.True(t, has(func(r Review) bool { return body(r, `"kind":"StatefulSet"`) && body(r, "laminar-controller") }), "a controller StatefulSet")
	assert.True(t, has(func(r Review) bool { return body(r, `"kind":"Deployment"`) && body(r, "laminar-api") }), "an api Deployment")
	assert.True(t, has(func(r Review) bool { return strings.HasSuffix(r.Name, "not-laminar") }), "an unrelated Deployment")
	assert.True(t, has(func(r Review) bool { return body(r, `"operation":"UPDATE"`) && body(r, `"oldObject"`) }), "an update")
	assert.True(t, has(func(r Review) bool { return body(r, `"managedFields"`) && body(r, "last-applied-configuration") }), "API server metadata")
}

func TestFlagCaps(t *testing.T) {
	for _, args := range [][]string{
		{"-duration", "10m"}, {"-rate", "100000"}, {"-concurrency", "0"}, {"-rate-conns", "1000"},
		{"-repeat", "50"}, {"-e2e-requests", "1000000"}, {"-modes", "fast"}, {"-handler=false"},
		{"-turn", "10ms"}, {"-duration", "2s", "-turn", "3s"}, {"-turn", "-1s"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		assert.Error(t, err, "%v", args)
	}
	c, err := parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, c.Duration)
	assert.Equal(t, 1000, c.Rate)
	assert.Equal(t, 500*time.Millisecond, c.Turn)
	assert.Equal(t, []string{"closed", "open"}, c.Modes)
}
