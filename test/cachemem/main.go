// Command cachemem measures what the webhook's cluster cache (pkg/cluster)
// costs in memory in a cluster of many large Deployments.
//
//	go run ./test/cachemem [-n 10000] [-annotation 100KiB] [flags]
//
// It starts etcd and kube-apiserver (envtest, the binaries of bin/k8s; no
// webhook is installed: only the cache is measured), creates -n Deployments in
// one namespace, each with an annotation of -annotation bytes — the
// last-applied-configuration kubectl writes, which is as large as the object
// — beside the webhook's exemption annotations, and then, once per case,
// re-executes itself as a child process that starts pkg/cluster's Cache as
// the webhook does and reports, once the cache has synced and after a
// garbage collection, its own VmRSS and VmHWM (/proc/self/status), the Go heap
// and the time to sync. A child has nothing else in its heap, so the figures
// are the cache's (plus the fixed cost of a Go process with client-go, which
// the child also reports before the cache starts).
//
// The cases:
//
//   - before: the transforms pkg/cluster had until issue 13's point 8 (kept in
//     before.go): managedFields stripped, Deployments and StatefulSets without
//     pod spec and status but with all their metadata;
//   - after: the cache as the webhook runs it (pkg/cluster's slim).
//
// Every figure is printed, none is asserted. Creating the objects dominates the
// run time; etcd runs without fsync and with a quota raised to fit them.
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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Caps keep a run bounded whatever the flags say.
const (
	maxObjects = 50000
	// The API server refuses more than 256 KiB of annotations per object; the
	// exemption annotations need a little of it.
	maxAnnotation  = 255 << 10
	maxConcurrency = 64
)

// Config is what the flags set.
type Config struct {
	N           int
	Annotation  int
	Concurrency int
	Cases       []string
	Timeout     time.Duration
	// Keep leaves the temporary directory (etcd data, kubeconfig) in place.
	Keep bool

	// child and kubeconfig are set in the re-executed process only.
	child      string
	kubeconfig string
	namespace  string
}

var knownCases = []string{caseBefore, caseAfter}

const (
	caseBefore = "before"
	caseAfter  = "after"
)

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
		fmt.Fprintln(stderr, "cachemem:", err)
		return 2
	}
	if c.child != "" {
		err = child(ctx, c, stdout)
	} else {
		err = parent(ctx, c, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "cachemem: FAIL:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("cachemem", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := Config{}
	size, cases := "", ""
	fs.IntVar(&c.N, "n", 10000, fmt.Sprintf("Deployments to create (1..%d)", maxObjects))
	fs.StringVar(&size, "annotation", "100KiB", fmt.Sprintf("size of each Deployment's large annotation: bytes, or with KiB or MiB (0..%d bytes)", maxAnnotation))
	fs.IntVar(&c.Concurrency, "concurrency", 16, fmt.Sprintf("creates in flight (1..%d)", maxConcurrency))
	fs.StringVar(&cases, "cases", "before,after", "cases to measure, in this order: before (the transforms of before), after (the webhook's)")
	fs.DurationVar(&c.Timeout, "timeout", 20*time.Minute, "the whole run, creates and every case")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary directory (etcd data, kubeconfig)")
	fs.StringVar(&c.child, "child", "", "internal: measure one case against -kubeconfig")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "internal: the child's kubeconfig")
	fs.StringVar(&c.namespace, "namespace", "", "internal: where the child finds the Deployments")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	n, err := parseSize(size)
	if err != nil {
		errs = append(errs, fmt.Errorf("-annotation: %w", err))
	}
	c.Annotation = n
	for _, k := range strings.Split(cases, ",") {
		switch k = strings.TrimSpace(k); k {
		case caseBefore, caseAfter:
			c.Cases = append(c.Cases, k)
		case "":
		default:
			errs = append(errs, fmt.Errorf("-cases: unknown case %q (%s)", k, strings.Join(knownCases, ", ")))
		}
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.N >= 1 && c.N <= maxObjects, "-n %d: want 1..%d", c.N, maxObjects)
	check(c.Annotation >= 0 && c.Annotation <= maxAnnotation, "-annotation %d bytes: want 0..%d", c.Annotation, maxAnnotation)
	check(c.Concurrency >= 1 && c.Concurrency <= maxConcurrency, "-concurrency %d: want 1..%d", c.Concurrency, maxConcurrency)
	check(len(c.Cases) > 0, "-cases: nothing to measure")
	check(c.Timeout > 0, "-timeout must be positive")
	check(c.child == "" || (c.kubeconfig != "" && c.namespace != ""), "-child needs -kubeconfig and -namespace")
	return c, errors.Join(errs...)
}

// parseSize reads "100KiB", "1MiB" or a plain number of bytes.
func parseSize(s string) (int, error) {
	num, mult := s, 1
	switch {
	case strings.HasSuffix(s, "KiB"):
		num, mult = strings.TrimSuffix(s, "KiB"), 1<<10
	case strings.HasSuffix(s, "MiB"):
		num, mult = strings.TrimSuffix(s, "MiB"), 1<<20
	case strings.HasSuffix(s, "B"):
		num = strings.TrimSuffix(s, "B")
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (100KiB, 1MiB, 4096)", s)
	}
	if n > maxAnnotation/mult+1 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}

// machine is what the figures depend on: the CPUs, the memory, Go, the load.
func machine() string {
	load, mem := "?", "?"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 1 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d CPUs, %s RAM, %s, load average %s", runtime.NumCPU(), mem, runtime.Version(), load)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
