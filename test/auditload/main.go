// Command auditload measures the background audit (pkg/audit) over many
// workloads: the time of a full pass, the report writes it makes, and what a
// second pass over an unchanged cluster writes (it should write nothing).
//
//	go run ./test/auditload [-n 2000,10000] [-write-qps 1000]
//
// It starts etcd and kube-apiserver (envtest, the binaries of bin/k8s, the
// Report CRD of deploy/manifests; no webhook), creates api Deployments in ten
// namespaces up to each count of -n in turn (a third of them below the replica
// floor), and at each count runs the audit in this process as the webhook
// runs it — pkg/cluster's cache, a direct client, one Auditor — and prints the
// figures and the process's memory after a garbage collection. Every figure
// is printed, none is asserted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/audit"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
)

const namespaces = 10

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "auditload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("auditload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	counts := fs.String("n", "2000,10000", "workload counts to measure at, ascending")
	qps := fs.Float64("write-qps", 1000, "the audit's report writes per second (the webhook's default is 20)")
	timeout := fs.Duration("timeout", 30*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ns []int
	for _, f := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || n > 50000 || (len(ns) > 0 && n <= ns[len(ns)-1]) {
			return fmt.Errorf("-n: want ascending counts from 1 to 50000, got %q", *counts)
		}
		ns = append(ns, n)
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	cfg, stopEnv, err := startAPIServer()
	if err != nil {
		return err
	}
	defer stopEnv()
	writer, err := cluster.NewWriter(cfg)
	if err != nil {
		return err
	}
	for i := range namespaces {
		if err := writer.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName(i)}}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "%-9s %-12s %-14s %-13s %-14s %-12s %-10s %s\n",
		"workloads", "create (s)", "1st pass (s)", "1st writes", "2nd pass (s)", "2nd writes", "heap MiB", "RSS MiB")
	made := 0
	for _, n := range ns {
		start := time.Now()
		if err := createDeployments(ctx, writer, made, n); err != nil {
			return err
		}
		created := time.Since(start)
		made = n
		if err := measure(ctx, cfg, writer, n, *qps, created, out); err != nil {
			return err
		}
	}
	return nil
}

func nsName(i int) string { return fmt.Sprintf("auditload-%02d", i) }

func startAPIServer() (*rest.Config, func(), error) {
	root, err := devenv.FindRepoRoot()
	if err != nil {
		return nil, nil, err
	}
	assets := devenv.AssetsDir(root, "")
	if err := devenv.CheckAssets(assets); err != nil {
		return nil, nil, fmt.Errorf("%w (build them once with make controlplane)", err)
	}
	tmp, err := os.MkdirTemp("", "laminar-auditload-")
	if err != nil {
		return nil, nil, err
	}
	useExisting := false
	te := &envtest.Environment{
		UseExistingCluster:    &useExisting,
		BinaryAssetsDirectory: assets,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(assets, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(assets, "etcd"), DataDir: filepath.Join(tmp, "etcd")},
		},
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths: []string{filepath.Join(root, "deploy", "manifests", "openreports.io_reports.yaml")}, ErrorIfPathMissing: true,
		},
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	etcdArgs := te.ControlPlane.Etcd.Configure()
	etcdArgs.Set("quota-backend-bytes", fmt.Sprint(int64(8)<<30))
	etcdArgs.Set("unsafe-no-fsync", "true")
	if _, err := devenv.StartEnvtest(te, filepath.Join(tmp, "parentdeath")); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, nil, fmt.Errorf("envtest: %w", err)
	}
	cfg := rest.CopyConfig(te.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	return cfg, func() { _ = te.Stop(); _ = os.RemoveAll(tmp) }, nil
}

// createDeployments creates api Deployments from index from up to to, a
// third of them at 1 replica (denied by replicas-min), spread over the namespaces.
func createDeployments(ctx context.Context, c client.Client, from, to int) error {
	pods := map[string]string{"app": "laminar-api"}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := from; i < to && gctx.Err() == nil; i++ {
		g.Go(func() error {
			replicas := int32(3)
			if i%3 == 0 {
				replicas = 1
			}
			return c.Create(gctx, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("laminar-api-%05d", i), Namespace: nsName(i % namespaces)},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To(replicas),
					Selector: &metav1.LabelSelector{MatchLabels: pods},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: pods},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "laminar/api:1"}}},
					},
				},
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// measure runs two full passes of a fresh Auditor over the cluster.
func measure(ctx context.Context, cfg *rest.Config, writer client.Client, n int, qps float64, created time.Duration, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cache, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- cache.Start(ctx) }()
	if !cache.WaitForSync(ctx) {
		return fmt.Errorf("cache never synced: %w", <-errc)
	}
	a := audit.New(audit.Config{Cache: cache, Writer: writer, Policy: admit.Static(policy.Default()), WriteQPS: qps,
		Reports: true, Log: logr.Discard()})
	if _, err := a.Register(ctx); err != nil {
		return err
	}
	writes := func() float64 {
		var sum float64
		for _, op := range []string{"create", "update", "delete"} {
			sum += testutil.ToFloat64(metrics.AuditWrites.WithLabelValues(op))
		}
		return sum
	}
	before := writes()
	start := time.Now()
	if err := a.FullPass(ctx); err != nil {
		return err
	}
	first, firstWrites := time.Since(start), writes()-before
	// The second pass reads the reports back from the cache: wait until it holds them all.
	for {
		reports := &metav1.PartialObjectMetadataList{}
		reports.SetGroupVersionKind(reportsv1alpha1.SchemeGroupVersion.WithKind("ReportList"))
		if err := cache.Reader().List(ctx, reports); err != nil {
			return err
		}
		if len(reports.Items) >= n {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	before = writes()
	start = time.Now()
	if err := a.FullPass(ctx); err != nil {
		return err
	}
	second, secondWrites := time.Since(start), writes()-before
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(out, "%-9d %-12.1f %-14.2f %-13.0f %-14.2f %-12.0f %-10.1f %.1f\n", n, created.Seconds(), first.Seconds(),
		firstWrites, second.Seconds(), secondWrites, float64(ms.HeapAlloc)/(1<<20), rssMiB())
	return nil
}

// rssMiB is the process's resident set from /proc/self/status.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
