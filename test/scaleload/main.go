// Command scaleload measures the webhook as it runs in a cluster that holds
// many Laminar workloads: the memory of its cluster cache once synced, the
// time to sync, and the latency and CPU of admission while the cache is full.
//
//	go run ./test/scaleload [-n 0,1000,10000] [-namespaces 100] [flags]
//
// It starts etcd and kube-apiserver (bin/k8s) with the webhook installed as
// internal/devenv installs it (the real binary, `serve` with --kubeconfig, so
// the cluster cache runs as in production), and then, at each count of -n in
// ascending order:
//
//   - creates, through the API server and so through the webhook, api
//     Deployments (examples/api-good.yaml, which the webhook fills in with its
//     defaults), one PodDisruptionBudget (examples/pdbs.yaml) and one
//     HorizontalPodAutoscaler (test/e2e/testdata/hpa-api.yaml) for each, up to
//     the count, spread over -namespaces namespaces, each workload with Helm's
//     labels and annotations and an instance label its budget selects;
//   - restarts the webhook with -webhook-env (by default the Deployment's
//     GOMEMLIMIT), so the cache fills from the initial list, as after a
//     rollout, and reads, once /readyz says the cache has synced, the process's
//     VmRSS and VmHWM (/proc/PID/status), the Go heap (go_memstats_* of its
//     /metrics: allocated, in use, the next collection's goal), the objects
//     its cache holds (laminar_ha_cluster_cache_objects) and the time from
//     start to admitting;
//   - times -requests server-side dry-run creates, one at a time, in the first
//     namespace (which holds count/namespaces of each kind) of a Deployment, a
//     budget and an autoscaler in turn — each read the cache: the budgets
//     selecting the Deployment's pods, the workloads a budget selects, the
//     workload an autoscaler targets — and the same in a namespace the webhook
//     configurations leave out (ha.laminar.io/enforce=off, mutate=off), the
//     API server alone; the webhook process's CPU (utime+stime,
//     /proc/PID/stat) over the timed creates, per create;
//   - reads the RSS again after the timed creates.
//
// Every figure is printed, none is asserted; a wrong answer (a denial, or an
// admitted Deployment without the webhook's defaults) is an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Caps keep a run bounded whatever the flags say.
const (
	maxWorkloads   = 50000
	maxNamespaces  = 1000
	maxRequests    = 10000
	maxConcurrency = 64
)

// Config is what the flags set.
type Config struct {
	Counts      []int
	Namespaces  int
	Requests    int
	WarmUp      int
	Concurrency int
	// WebhookEnv is added to the webhook's environment on every restart.
	WebhookEnv []string
	// WebhookBinary is a built webhook; empty builds ./cmd/webhook.
	WebhookBinary string
	// WebhookLog is where the webhook's log goes; empty: a temporary file.
	WebhookLog string
	Timeout    time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "scaleload:", err)
		return 2
	}
	if err := measureAll(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "scaleload: FAIL:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("scaleload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := Config{}
	counts, env := "", ""
	fs.StringVar(&counts, "n", "0,1000,10000", fmt.Sprintf("workload counts (each a Deployment, a budget and an autoscaler) to measure at, ascending, 0..%d", maxWorkloads))
	fs.IntVar(&c.Namespaces, "namespaces", 100, fmt.Sprintf("namespaces the workloads are spread over (1..%d)", maxNamespaces))
	fs.IntVar(&c.Requests, "requests", 600, fmt.Sprintf("timed dry-run creates per count and namespace (3..%d)", maxRequests))
	fs.IntVar(&c.WarmUp, "warm-up", 60, "untimed dry-run creates before them")
	fs.IntVar(&c.Concurrency, "concurrency", 32, fmt.Sprintf("creates in flight while filling the cluster (1..%d)", maxConcurrency))
	fs.StringVar(&env, "webhook-env", "GOMEMLIMIT=230MiB", "comma-separated KEY=VALUE added to the webhook's environment (default: deploy/manifests/deployment.yaml's)")
	fs.StringVar(&c.WebhookBinary, "webhook-binary", "", "a built laminar-ha-webhook (default: build ./cmd/webhook)")
	fs.StringVar(&c.WebhookLog, "webhook-log", "", "append the webhook's log to this file (default: a temporary file, removed)")
	fs.DurationVar(&c.Timeout, "timeout", 45*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	var err error
	if c.Counts, err = parseCounts(counts); err != nil {
		errs = append(errs, fmt.Errorf("-n: %w", err))
	}
	if c.WebhookEnv, err = parseEnv(env); err != nil {
		errs = append(errs, fmt.Errorf("-webhook-env: %w", err))
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Namespaces >= 1 && c.Namespaces <= maxNamespaces, "-namespaces %d: want 1..%d", c.Namespaces, maxNamespaces)
	check(c.Requests >= 3 && c.Requests <= maxRequests, "-requests %d: want 3..%d", c.Requests, maxRequests)
	check(c.WarmUp >= 0 && c.WarmUp <= maxRequests, "-warm-up %d: want 0..%d", c.WarmUp, maxRequests)
	check(c.Concurrency >= 1 && c.Concurrency <= maxConcurrency, "-concurrency %d: want 1..%d", c.Concurrency, maxConcurrency)
	check(c.Timeout > 0, "-timeout must be positive")
	return c, errors.Join(errs...)
}

// parseCounts reads "0,1000,10000": ascending counts, each at most maxWorkloads.
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 0 || n > maxWorkloads {
			return nil, fmt.Errorf("%q is not a count from 0 to %d", f, maxWorkloads)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("want ascending counts, got %q", s)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no count to measure at")
	}
	return out, nil
}

// parseEnv reads "GOMEMLIMIT=230MiB,GOGC=50"; an empty string is no variable.
func parseEnv(s string) ([]string, error) {
	var out []string
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		if slices.ContainsFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			return nil, fmt.Errorf("%s given twice", k)
		}
		out = append(out, kv)
	}
	return out, nil
}

// machine is what the figures depend on: the CPUs, the memory, Go, the load.
func machine() string {
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 1 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d CPUs, %s RAM, %s, load average %s", runtime.NumCPU(), mem, runtime.Version(), loadAverage())
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func mib[N int64 | uint64](b N) float64 { return float64(b) / (1 << 20) }
