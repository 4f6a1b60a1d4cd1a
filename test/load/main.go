// Command load measures laminar-ha-webhook against the limit of its stack.
//
//	go run ./test/load [flags]
//
// It builds the real webhook (./cmd/webhook) and a no-op webhook on the same
// server stack (./test/load/noop: controller-runtime's webhook server, the same
// TLS options, a handler that allows everything with no patch) into a temporary
// directory, starts both as separate processes on 127.0.0.1 with a generated
// certificate and without cluster access, and drives each over HTTPS with
// HTTP/1.1 keep-alive, one after the other, with the same mix of AdmissionReviews
// (built from the repository's fixtures, see BuildCorpus):
//
//   - closed loop: -concurrency requests in flight for -duration: throughput;
//   - open loop: -rate requests per second for -duration, with at most
//     -rate-conns in flight: latency at a fixed load.
//
// For both servers it prints throughput, p50/p95/p99/max latency, errors (a
// wrong answer is an error), the server's CPU time per request, peak RSS
// (VmHWM) and the ratios ours/no-op. With -e2e it then starts a real
// kube-apiserver and etcd with the webhook installed (internal/devenv) and
// measures server-side dry-run creates with no webhook, with ours and with a
// ValidatingAdmissionPolicy (see e2e.go); with -kyverno-binary also with
// Kyverno's admission controller running a ClusterPolicy that does the same
// job, after checking that it reaches the same verdicts (kyverno.go, verdict.go).
//
// Every figure is printed, none is asserted. All traffic goes to 127.0.0.1, and
// every phase is bounded in time and in requests (see the caps on the flags).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// Caps keep a run bounded whatever the flags say.
const (
	maxDuration    = 60 * time.Second
	minDuration    = 200 * time.Millisecond
	minTurn        = 100 * time.Millisecond
	maxRate        = 5000
	maxConcurrency = 64
	maxRateConns   = 256
	maxRepeat      = 5
	maxE2ERequests = 5000
)

// Config is what the flags set.
type Config struct {
	Duration time.Duration
	// Turn is how long one server is driven before the other takes over; the
	// two take turns until each has had Duration. Zero: one turn each.
	Turn        time.Duration
	Concurrency int
	Rate        int
	RateConns   int
	Repeat      int
	Modes       []string // closed, open
	Handler     bool
	E2E         bool
	E2ERequests int
	E2EVAP      bool
	E2EReplay   bool
	// KyvernoBinary, when set, adds Kyverno's admission controller to the e2e
	// phase (the peers table; see kyverno.go), with the ClusterPolicy at
	// KyvernoPolicy (relative to RepoRoot unless absolute).
	KyvernoBinary, KyvernoPolicy string
	// WebhookBinary and NoopBinary skip the build when set.
	WebhookBinary, NoopBinary string
	// ServerEnv is added to both servers' environment (GOGC=200, GOMAXPROCS=1, ...).
	ServerEnv []string
	// DiscardLogs sends the servers' logs to /dev/null instead of a file.
	DiscardLogs bool
	// Timeline prints each open-loop phase's latency per 250ms window.
	Timeline bool
	// Keep leaves the temporary directory (binaries, certificates, logs) in place.
	Keep bool
	// RepoRoot is the module's root; empty finds it from the working directory.
	RepoRoot string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := Config{}
	modes := ""
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, fmt.Sprintf("length of each phase against each server (%s..%s)", minDuration, maxDuration))
	fs.DurationVar(&c.Turn, "turn", 500*time.Millisecond, fmt.Sprintf("the servers take turns of this length until each has had -duration, so that a busy moment of the machine falls on both alike (0, or %s..-duration; 0 drives each for the whole -duration in one go)", minTurn))
	fs.IntVar(&c.Concurrency, "concurrency", 8, fmt.Sprintf("closed loop: requests in flight, one connection each (1..%d)", maxConcurrency))
	fs.IntVar(&c.Rate, "rate", 1000, fmt.Sprintf("open loop: requests per second (1..%d)", maxRate))
	fs.IntVar(&c.RateConns, "rate-conns", 32, fmt.Sprintf("open loop: most requests in flight, and connections (1..%d)", maxRateConns))
	fs.IntVar(&c.Repeat, "repeat", 1, fmt.Sprintf("runs of every phase, handler and e2e; with more than one the medians are printed too (1..%d)", maxRepeat))
	fs.StringVar(&modes, "modes", "closed,open", "handler phases to run: closed, open, or both")
	fs.BoolVar(&c.Handler, "handler", true, "run the handler phases (ours and the no-op webhook, directly over HTTPS)")
	fs.BoolVar(&c.E2E, "e2e", false, "also measure end to end through a real kube-apiserver (needs bin/k8s: make controlplane)")
	fs.IntVar(&c.E2ERequests, "e2e-requests", 500, fmt.Sprintf("e2e: dry-run creates per variant (1..%d)", maxE2ERequests))
	fs.BoolVar(&c.E2EVAP, "e2e-vap", true, "e2e: include the ValidatingAdmissionPolicy variant")
	fs.BoolVar(&c.E2EReplay, "e2e-replay", true, "e2e: include the patch replay variant (the no-op answering with our patches)")
	fs.StringVar(&c.KyvernoBinary, "kyverno-binary", "", "e2e: also run this Kyverno admission controller (make kyverno builds bin/kyverno) with -kyverno-policy, check it reaches our verdicts, and print the side-by-side table")
	fs.StringVar(&c.KyvernoPolicy, "kyverno-policy", DefaultKyvernoPolicy, "e2e: the ClusterPolicy for -kyverno-binary")
	fs.StringVar(&c.WebhookBinary, "webhook-binary", "", "a built laminar-ha-webhook; empty builds ./cmd/webhook")
	fs.StringVar(&c.NoopBinary, "noop-binary", "", "a built no-op webhook; empty builds ./test/load/noop")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary directory (server logs, certificates)")
	fs.BoolVar(&c.Timeline, "timeline", false, "print each open-loop phase's p50 and max latency per 250ms of schedule (to see stalls)")
	fs.BoolVar(&c.DiscardLogs, "discard-logs", false, "send the servers' logs to /dev/null instead of a file in the temporary directory")
	serverEnv := ""
	fs.StringVar(&serverEnv, "server-env", "", "comma-separated NAME=VALUE pairs for both servers' environment, e.g. GOGC=200 (handler phases)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, kv := range strings.Split(serverEnv, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.HasPrefix(k, "KUBE") {
			return c, fmt.Errorf("-server-env: want NAME=VALUE (not KUBE*), got %q", kv)
		}
		c.ServerEnv = append(c.ServerEnv, kv)
	}
	for _, m := range strings.Split(modes, ",") {
		switch m = strings.TrimSpace(m); m {
		case "closed", "open":
			c.Modes = append(c.Modes, m)
		case "":
		default:
			return c, fmt.Errorf("-modes: unknown phase %q (closed, open)", m)
		}
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Duration >= minDuration && c.Duration <= maxDuration, "-duration %s: want %s..%s", c.Duration, minDuration, maxDuration)
	check(c.Turn == 0 || (c.Turn >= minTurn && c.Turn <= c.Duration), "-turn %s: want 0 or %s..-duration (%s)", c.Turn, minTurn, c.Duration)
	check(c.Concurrency >= 1 && c.Concurrency <= maxConcurrency, "-concurrency %d: want 1..%d", c.Concurrency, maxConcurrency)
	check(c.Rate >= 1 && c.Rate <= maxRate, "-rate %d: want 1..%d", c.Rate, maxRate)
	check(c.RateConns >= 1 && c.RateConns <= maxRateConns, "-rate-conns %d: want 1..%d", c.RateConns, maxRateConns)
	check(c.Repeat >= 1 && c.Repeat <= maxRepeat, "-repeat %d: want 1..%d", c.Repeat, maxRepeat)
	check(c.E2ERequests >= 1 && c.E2ERequests <= maxE2ERequests, "-e2e-requests %d: want 1..%d", c.E2ERequests, maxE2ERequests)
	check(c.Handler || c.E2E, "nothing to run: -handler=false without -e2e")
	check(!c.Handler || len(c.Modes) > 0, "-modes: no handler phase")
	check(c.KyvernoBinary == "" || c.E2E, "-kyverno-binary needs -e2e")
	check(c.KyvernoBinary == "" || c.E2EVAP, "-kyverno-binary: the side-by-side table includes the ValidatingAdmissionPolicy; drop -e2e-vap=false")
	check(strings.TrimSpace(c.KyvernoPolicy) != "", "-kyverno-policy: empty")
	return c, errors.Join(errs...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	// The in-process handlers that work out the expected answers log through
	// controller-runtime; nothing of that is wanted here.
	ctrllog.SetLogger(logr.Discard())
	if c.RepoRoot == "" {
		if c.RepoRoot, err = devenv.FindRepoRoot(); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
	}
	if _, err := Run(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "load: FAIL:", err)
		return 1
	}
	return 0
}

// Report is what a run measured, for callers other than the command line.
type Report struct {
	// Handler holds every handler phase's result, in the order they ran.
	Handler []Result
	// Memory is each server's memory after the handler phases, by target name.
	Memory map[string]parentdeath.Memory
	// E2E holds the end-to-end variants' latencies.
	E2E []E2EResult
}

// E2EResult is one end-to-end variant.
type E2EResult struct {
	Name      string
	Latencies []time.Duration // sorted
}

// Run does the whole measurement.
func Run(ctx context.Context, c Config, stdout, stderr io.Writer) (Report, error) {
	var rep Report
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	if c.KyvernoBinary != "" {
		// Fail before anything starts when the peer cannot run.
		if err := checkKyvernoBinary(c.KyvernoBinary); err != nil {
			return rep, err
		}
		policy := c.KyvernoPolicy
		if !filepath.IsAbs(policy) {
			policy = filepath.Join(c.RepoRoot, policy)
		}
		if _, err := ReadKyvernoPolicy(policy); err != nil {
			return rep, err
		}
	}
	tmp, err := os.MkdirTemp("", "laminar-load-")
	if err != nil {
		return rep, err
	}
	if c.Keep {
		logf("load: keeping %s", tmp)
	} else {
		defer func() { _ = os.RemoveAll(tmp) }()
	}
	webhookBin, noopBin := c.WebhookBinary, c.NoopBinary
	start := time.Now()
	if webhookBin == "" {
		webhookBin = filepath.Join(tmp, "laminar-ha-webhook")
		if err := build(ctx, c.RepoRoot, "./cmd/webhook", webhookBin); err != nil {
			return rep, err
		}
	}
	if noopBin == "" {
		noopBin = filepath.Join(tmp, "noop-webhook")
		if err := build(ctx, c.RepoRoot, "./test/load/noop", noopBin); err != nil {
			return rep, err
		}
	}
	logf("load: binaries ready in %s", time.Since(start).Round(time.Millisecond))

	fmt.Fprintf(stdout, "machine: %s\n", machine())
	if c.Handler {
		if err := handlerPhases(ctx, c, tmp, webhookBin, noopBin, stdout, logf, &rep); err != nil {
			return rep, err
		}
	}
	if c.E2E {
		if err := e2ePhase(ctx, c, tmp, webhookBin, noopBin, stdout, logf, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func handlerPhases(ctx context.Context, c Config, tmp, webhookBin, noopBin string, out io.Writer, logf func(string, ...any), rep *Report) error {
	corpus, err := BuildCorpus(c.RepoRoot)
	if err != nil {
		return fmt.Errorf("review mix: %w", err)
	}
	certs, err := devenv.NewCerts("localhost")
	if err != nil {
		return err
	}
	certDir := filepath.Join(tmp, "certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	if err := certs.WriteServing(certDir); err != nil {
		return err
	}

	noopLog, oursLog := filepath.Join(tmp, "noop.log"), filepath.Join(tmp, "webhook.log")
	if c.DiscardLogs {
		noopLog, oursLog = os.DevNull, os.DevNull
	}
	noop, err := startServer(ctx, "no-op", noopBin, nil, c.ServerEnv, certDir, noopLog)
	if err != nil {
		return err
	}
	defer noop.Stop()
	ours, err := startServer(ctx, "laminar", webhookBin, []string{"serve", "--log-format", "json"}, c.ServerEnv, certDir, oursLog)
	if err != nil {
		return err
	}
	defer ours.Stop()
	targets := []Target{
		{Name: "no-op", URL: fmt.Sprintf("https://127.0.0.1:%d", noop.Port), PID: noop.PID(), Noop: true},
		{Name: "laminar", URL: fmt.Sprintf("https://127.0.0.1:%d", ours.Port), PID: ours.PID()},
	}
	procs := map[string]*Process{"no-op": noop, "laminar": ours}

	fmt.Fprintf(out, "review mix: %s\n", corpus.Summary())
	fmt.Fprintf(out, "servers: no-op pid %d, laminar-ha-webhook pid %d (no cluster access, default policy, JSON logs to %s)%s\n", noop.PID(), ours.PID(), logNote(c.DiscardLogs), envNote(c.ServerEnv))
	fmt.Fprintf(out, "phases: %s each per server%s, run %d time(s), servers alternating first\n\n", c.Duration, turnNote(c), c.Repeat)

	results := map[string][]Result{} // by mode + target
	for run := 0; run < c.Repeat; run++ {
		for _, mode := range c.Modes {
			pair := targets
			if run%2 == 1 {
				pair = []Target{targets[1], targets[0]}
			}
			got, err := phase(ctx, c, mode, pair, corpus, certs.CACert, func(t Target) error {
				if procs[t.Name].Exited() {
					return fmt.Errorf("%s exited during the %s phase\n%s", t.Name, mode, procs[t.Name].LogTail())
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, r := range got {
				logf("load: run %d, %s, %s: %d requests, %d errors", run+1, r.Mode, r.Target, r.Requests, r.Errors)
				rep.Handler = append(rep.Handler, r)
				results[mode+"/"+r.Target] = append(results[mode+"/"+r.Target], r)
			}
			sort.Slice(got, func(i, j int) bool { return got[i].Target > got[j].Target }) // no-op first
			fmt.Fprintf(out, "run %d, %s\n", run+1, got[0].Mode)
			printTable(out, got)
			if c.Timeline {
				for _, r := range got {
					printTimeline(out, r, c.Rate)
				}
			}
			fmt.Fprintln(out)
		}
	}
	if c.Repeat > 1 {
		for _, mode := range c.Modes {
			med := []Result{median(results[mode+"/no-op"]), median(results[mode+"/laminar"])}
			fmt.Fprintf(out, "median of %d runs, %s\n", c.Repeat, med[0].Mode)
			printTable(out, med)
			fmt.Fprintln(out)
		}
	}
	mem := map[string]parentdeath.Memory{}
	for _, t := range targets {
		m, err := parentdeath.ReadMemory(t.PID)
		if err != nil {
			return err
		}
		mem[t.Name] = m
	}
	rep.Memory = mem
	fmt.Fprintf(out, "peak RSS (VmHWM) after all phases: no-op %.1f MiB, laminar %.1f MiB (ratio %.2fx); RSS now: no-op %.1f MiB, laminar %.1f MiB\n",
		mib(mem["no-op"].Peak), mib(mem["laminar"].Peak), float64(mem["laminar"].Peak)/float64(mem["no-op"].Peak),
		mib(mem["no-op"].RSS), mib(mem["laminar"].RSS))
	if !c.DiscardLogs {
		fmt.Fprintf(out, "laminar-ha-webhook logged %.1f KiB\n", float64(ours.LogSize())/1024)
	}
	return nil
}

// phase warms up a client per target, then drives the targets in turns of
// c.Turn, the first of pair first and then alternating, until each has had
// c.Duration, and returns each target's turns as one Result, in pair's order.
// alive is asked after each turn whether the target is still running.
func phase(ctx context.Context, c Config, mode string, pair []Target, corpus Corpus, caPEM []byte, alive func(Target) error) ([]Result, error) {
	conns := c.Concurrency
	if mode == "open" {
		conns = c.RateConns
	}
	clients := make([]*http.Client, len(pair))
	for i, t := range pair {
		client, err := newClient(caPEM, conns)
		if err != nil {
			return nil, err
		}
		defer client.CloseIdleConnections()
		if err := warmUp(ctx, client, t, corpus, min(conns, 8)); err != nil {
			return nil, fmt.Errorf("warm-up against %s: %w", t.Name, err)
		}
		clients[i] = client
	}
	turns := turnLengths(c.Duration, c.Turn)
	out := make([]Result, len(pair))
	for n, d := range turns {
		for k := range pair {
			i := k
			if n%2 == 1 {
				i = len(pair) - 1 - k
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r, err := turn(ctx, c, mode, clients[i], pair[i], corpus, d)
			if err != nil {
				return nil, err
			}
			if err := alive(pair[i]); err != nil {
				return nil, err
			}
			out[i].merge(r)
		}
	}
	for i := range out {
		out[i].Turns = len(turns)
		sort.Slice(out[i].Latencies, func(a, b int) bool { return out[i].Latencies[a] < out[i].Latencies[b] })
	}
	return out, nil
}

// turnLengths splits total into turns of length turn (the last one shorter
// when turn does not divide it); a zero turn is one turn of total.
func turnLengths(total, turn time.Duration) []time.Duration {
	if turn <= 0 || turn >= total {
		return []time.Duration{total}
	}
	var out []time.Duration
	for left := total; left > 0; left -= turn {
		out = append(out, min(turn, left))
	}
	return out
}

// turn drives t for d and reads the server's CPU time around it.
func turn(ctx context.Context, c Config, mode string, client *http.Client, t Target, corpus Corpus, d time.Duration) (Result, error) {
	cpu0, err := parentdeath.ReadCPU(t.PID)
	if err != nil {
		return Result{}, err
	}
	self0 := selfCPU()
	var r Result
	switch mode {
	case "closed":
		r = ClosedLoop(ctx, client, t, corpus, c.Concurrency, d)
	default:
		r = OpenLoop(ctx, client, t, corpus, c.Rate, c.RateConns, d)
	}
	cpu1, err := parentdeath.ReadCPU(t.PID)
	if err != nil {
		return Result{}, err
	}
	r.ServerCPU = cpu1 - cpu0
	r.ClientCPU = selfCPU() - self0
	return r, nil
}

func turnNote(c Config) string {
	if n := len(turnLengths(c.Duration, c.Turn)); n > 1 {
		return fmt.Sprintf(" in %d turns of %s, taken in alternation", n, c.Turn)
	}
	return ", one after the other"
}

func printTable(out io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\trequests\treq/s\tp50\tp95\tp99\tmax\terrors\tserver CPU/req\tclient CPU\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", r.Target, r.Requests, r.Throughput(),
			ms(r.Quantile(0.50)), ms(r.Quantile(0.95)), ms(r.Quantile(0.99)), ms(r.Quantile(1)), r.Errors,
			us(r.CPUPerRequest()), r.ClientCPU.Round(10*time.Millisecond))
	}
	_ = tw.Flush()
	if len(rs) == 2 && rs[0].Requests > 0 && rs[1].Requests > 0 {
		n, o := rs[0], rs[1]
		fmt.Fprintf(out, "ratio laminar/no-op: throughput %.2fx, p50 %.2fx, p99 %.2fx, server CPU/req %.2fx\n",
			o.Throughput()/n.Throughput(), ratio(o.Quantile(0.5), n.Quantile(0.5)), ratio(o.Quantile(0.99), n.Quantile(0.99)),
			ratio(o.CPUPerRequest(), n.CPUPerRequest()))
	}
	for _, r := range rs {
		if r.FirstErr != "" {
			fmt.Fprintf(out, "first error (%s): %s\n", r.Target, r.FirstErr)
		}
	}
}

// median is a Result whose every figure is the median of that figure over rs.
func median(rs []Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	pick := func(f func(Result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	m := Result{Target: rs[0].Target, Mode: rs[0].Mode}
	m.Requests = int(pick(func(r Result) float64 { return float64(r.Requests) }))
	m.Errors = int(pick(func(r Result) float64 { return float64(r.Errors) }))
	// Throughput = Requests / Elapsed: keep the median throughput exact.
	tp := pick(Result.Throughput)
	if tp > 0 {
		m.Elapsed = time.Duration(float64(m.Requests) / tp * float64(time.Second))
	}
	q := func(p float64) time.Duration {
		return time.Duration(pick(func(r Result) float64 { return float64(r.Quantile(p)) }))
	}
	// A synthetic sorted sample that answers Quantile with the medians.
	m.Latencies = syntheticQuantiles(q(0.5), q(0.95), q(0.99), q(1))
	m.ServerCPU = time.Duration(pick(func(r Result) float64 { return float64(r.CPUPerRequest()) })) * time.Duration(m.Requests)
	m.ClientCPU = time.Duration(pick(func(r Result) float64 { return float64(r.ClientCPU) }))
	return m
}

// syntheticQuantiles is a sorted sample of 100 whose p50, p95, p99 and max are
// the given values.
func syntheticQuantiles(p50, p95, p99, pmax time.Duration) []time.Duration {
	s := make([]time.Duration, 100)
	for i := range s {
		switch {
		case i < 50:
			s[i] = p50
		case i < 95:
			s[i] = p95
		case i < 99:
			s[i] = p99
		default:
			s[i] = pmax
		}
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond)) }
func mib(b int64) float64       { return float64(b) / (1 << 20) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// machine describes where the figures come from.
func machine() string {
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s, load average %s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

func envNote(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return ", environment " + strings.Join(env, " ")
}

func logNote(discard bool) string {
	if discard {
		return "/dev/null"
	}
	return "a file"
}

// printTimeline shows an open-loop phase's latency over its schedule: the
// median and the worst of every 250ms of requests.
func printTimeline(out io.Writer, r Result, rate int) {
	if len(r.BySchedule) == 0 {
		return
	}
	per := max(1, rate/4)
	fmt.Fprintf(out, "timeline %s (per 250ms: p50/max ms):", r.Target)
	for i := 0; i < len(r.BySchedule); i += per {
		w := append([]time.Duration(nil), r.BySchedule[i:min(i+per, len(r.BySchedule))]...)
		sort.Slice(w, func(a, b int) bool { return w[a] < w[b] })
		fmt.Fprintf(out, " %.1f/%.0f", float64(w[len(w)/2])/1e6, float64(w[len(w)-1])/1e6)
	}
	fmt.Fprintln(out)
}
