package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
)

const offNamespace = "scale-off"

func nsName(i int) string { return fmt.Sprintf("scale-%03d", i) }

func workloadName(i int) string { return fmt.Sprintf("laminar-api-%05d", i) }

// Row is one count's figures.
type Row struct {
	N, PerNamespace int
	// Create is how long creating this step's objects took, and Created how many.
	Create  time.Duration
	Created int
	// Ready is from the webhook's start until /readyz (the cache synced) and
	// the API server's admission calls reaching it.
	Ready time.Duration
	// Synced is read once ready, After after the timed creates.
	Synced, After parentdeath.Memory
	// Heap figures from the webhook's /metrics once ready: allocated (live
	// and not yet collected), in use (spans), and the goal of the next
	// collection (about twice the live heap at GOGC=100).
	HeapAlloc, HeapInuse, NextGC float64
	// Cached counts the cache's objects by kind, from its /metrics.
	Cached map[string]float64
	// Latencies of the timed dry-run creates, webhook and API server alone.
	Webhook, Off []time.Duration
	// CPU is the webhook process's CPU time per timed create through it.
	CPU time.Duration
	// Inside is the mean time inside the webhook per call (both paths).
	Inside time.Duration
}

func measureAll(ctx context.Context, c Config, out, stderr io.Writer) error {
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "scaleload: "+format+"\n", args...) }
	root, err := devenv.FindRepoRoot()
	if err != nil {
		return err
	}
	if err := devenv.CheckAssets(devenv.AssetsDir(root, "")); err != nil {
		return fmt.Errorf("%w (build them once with make controlplane)", err)
	}
	shapes, err := loadShapes(root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "laminar-scaleload-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	opts := devenv.Options{RepoRoot: root, WebhookBinary: c.WebhookBinary, WorkDir: filepath.Join(tmp, "env"), Logf: logf,
		ReadyTimeout: 5 * time.Minute}
	if c.WebhookLog != "" {
		f, err := os.OpenFile(c.WebhookLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		opts.WebhookOutput = f
	}
	env, err := devenv.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			logf("stopping: %v", err)
		}
	}()
	// Only the webhook's restarts see these: etcd and kube-apiserver run already.
	for _, kv := range c.WebhookEnv {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 10000
	cfg.WarningHandler = rest.NoWarnings{}
	cl, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return err
	}
	for i := range c.Namespaces {
		if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName(i)}}); err != nil {
			return err
		}
	}
	off := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: offNamespace,
		Labels: map[string]string{"ha.laminar.io/enforce": "off", "ha.laminar.io/mutate": "off"}}}
	if err := cl.Create(ctx, off); err != nil {
		return err
	}

	fmt.Fprintf(out, "machine: %s\n", machine())
	fmt.Fprintf(out, "webhook environment: %s\n", strings.Join(c.WebhookEnv, " "))
	var rows []Row
	made := 0
	for _, n := range c.Counts {
		r := Row{N: n, PerNamespace: n / c.Namespaces}
		logf("creating workloads %d..%d (Deployment, budget, autoscaler each) over %d namespaces", made, n, c.Namespaces)
		start := time.Now()
		if err := createWorkloads(ctx, cl, shapes, c, made, n); err != nil {
			return err
		}
		r.Create, r.Created = time.Since(start), n-made
		made = n
		logf("restarting the webhook with %d workloads in the cluster", n)
		if err := measureOne(ctx, env, cl, shapes, c, &r, logf); err != nil {
			return fmt.Errorf("at %d workloads: %w", n, err)
		}
		rows = append(rows, r)
		printRow(out, r)
	}
	fmt.Fprintf(out, "\nload average at the end: %s\n\n", loadAverage())
	return printTable(out, c, rows)
}

// createWorkloads creates instances from..to: budget first (so the
// Deployment's admission finds it), then Deployment, then autoscaler.
func createWorkloads(ctx context.Context, cl client.Client, s Shapes, c Config, from, to int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.Concurrency)
	for i := from; i < to && gctx.Err() == nil; i++ {
		g.Go(func() error {
			d, b, h := s.workload(i, nsName(i%c.Namespaces), workloadName(i))
			for _, o := range []client.Object{b, d, h} {
				if err := cl.Create(gctx, o); err != nil {
					return fmt.Errorf("create %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func measureOne(ctx context.Context, env *devenv.Env, cl client.Client, s Shapes, c Config, r *Row, logf func(string, ...any)) error {
	if err := env.StopWebhook(); err != nil {
		return err
	}
	start := time.Now()
	if err := env.StartWebhook(ctx); err != nil {
		return err
	}
	r.Ready = time.Since(start)
	pid := env.WebhookPID()
	var err error
	if r.Synced, err = parentdeath.ReadMemory(pid); err != nil {
		return err
	}
	text, err := env.Metrics(ctx)
	if err != nil {
		return err
	}
	v := metricValues(text, "go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_next_gc_bytes")
	r.HeapAlloc, r.HeapInuse, r.NextGC = v["go_memstats_heap_alloc_bytes"], v["go_memstats_heap_inuse_bytes"], v["go_memstats_next_gc_bytes"]
	r.Cached = metricByLabel(text, cachedMetric, "kind")
	logf("ready in %s: RSS %.1f MiB (peak %.1f), heap %.1f MiB; timing %d dry-run creates", r.Ready.Round(time.Millisecond),
		mib(r.Synced.RSS), mib(r.Synced.Peak), r.HeapAlloc/(1<<20), c.Requests)

	target := nsName(0)
	for i := range c.WarmUp {
		if _, err := dryRun(ctx, cl, s, target, i); err != nil {
			return err
		}
		if _, err := dryRun(ctx, cl, s, offNamespace, i); err != nil {
			return err
		}
	}
	if text, err = env.Metrics(ctx); err != nil {
		return err
	}
	insideBefore := metricValues(text, insideSum, insideCount)
	cpuBefore, err := parentdeath.ReadCPU(pid)
	if err != nil {
		return err
	}
	r.Webhook, r.Off = make([]time.Duration, 0, c.Requests), make([]time.Duration, 0, c.Requests)
	for i := range c.Requests {
		lat, err := dryRun(ctx, cl, s, target, i)
		if err != nil {
			return err
		}
		r.Webhook = append(r.Webhook, lat)
		if lat, err = dryRun(ctx, cl, s, offNamespace, i); err != nil {
			return err
		}
		r.Off = append(r.Off, lat)
	}
	cpuAfter, err := parentdeath.ReadCPU(pid)
	if err != nil {
		return err
	}
	r.CPU = (cpuAfter - cpuBefore) / time.Duration(c.Requests)
	if r.After, err = parentdeath.ReadMemory(pid); err != nil {
		return err
	}
	if text, err = env.Metrics(ctx); err != nil {
		return err
	}
	insideAfter := metricValues(text, insideSum, insideCount)
	if calls := insideAfter[insideCount] - insideBefore[insideCount]; calls > 0 {
		r.Inside = time.Duration((insideAfter[insideSum] - insideBefore[insideSum]) / calls * float64(time.Second))
	}
	slices.Sort(r.Webhook)
	slices.Sort(r.Off)
	return nil
}

const (
	insideSum    = "controller_runtime_webhook_latency_seconds_sum"
	insideCount  = "controller_runtime_webhook_latency_seconds_count"
	cachedMetric = "laminar_ha_cluster_cache_objects"
)

// dryRun sends the i-th of a Deployment, a budget and an autoscaler in turn
// as a server-side dry-run create into ns and times it. Each reads the cache
// in the webhook: the Deployment the budgets selecting its pods (instance 0's
// does) and its autoscalers, the budget the workloads it selects (instance
// 0's), the autoscaler the workload it targets (instance 0's). A denial is an
// error, and so is a Deployment the webhook did not fill in where it runs, or
// did where it does not.
func dryRun(ctx context.Context, cl client.Client, s Shapes, ns string, i int) (time.Duration, error) {
	d, b, h := s.workload(0, ns, workloadName(0))
	h.Name = "scale-probe"
	b.Name = "scale-probe"
	d.Name = "scale-probe"
	var obj client.Object
	switch i % 3 {
	case 0:
		obj = d
	case 1:
		obj = b
	default:
		obj = h
	}
	start := time.Now()
	err := cl.Create(ctx, obj, client.DryRunAll)
	lat := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("dry-run create %T in %s: %w", obj, ns, err)
	}
	if d, ok := obj.(*appsv1.Deployment); ok {
		filled := d.Spec.Template.Spec.Containers[0].StartupProbe != nil
		if filled != (ns != offNamespace) {
			return 0, fmt.Errorf("dry-run create of a Deployment in %s: HA defaults filled in: %t", ns, filled)
		}
	}
	return lat, nil
}

// metricByLabel reads the samples of one metric by the value of one label.
func metricByLabel(text, name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok && k == label {
				var f float64
				if _, err := fmt.Sscan(value, &f); err == nil {
					out[strings.Trim(v, `"`)] += f
				}
			}
		}
	}
	return out
}

func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func printRow(out io.Writer, r Row) {
	rate := 0.0
	if r.Create > 0 {
		rate = float64(3*r.Created) / r.Create.Seconds()
	}
	fmt.Fprintf(out, "%d workloads (%d per namespace): %d created in %s (%.0f objects/s); ready in %s; RSS %.1f MiB (anon %.1f, file %.1f; peak %.1f), after the creates %.1f MiB (peak %.1f); heap %.1f MiB allocated, %.1f MiB in use, goal %.1f MiB; cached %s\n",
		r.N, r.PerNamespace, r.Created, r.Create.Round(time.Millisecond), rate, r.Ready.Round(time.Millisecond),
		mib(r.Synced.RSS), mib(r.Synced.Anon), mib(r.Synced.File), mib(r.Synced.Peak), mib(r.After.RSS), mib(r.After.Peak),
		r.HeapAlloc/(1<<20), r.HeapInuse/(1<<20), r.NextGC/(1<<20), cachedString(r.Cached))
}

func cachedString(m map[string]float64) string {
	if len(m) == 0 {
		return "(no " + cachedMetric + ")"
	}
	var parts []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func printTable(out io.Writer, c Config, rows []Row) error {
	fmt.Fprintf(out, "%d dry-run creates per count through the webhook (Deployment, budget, autoscaler in turn, in %s) and as many without it (%s), interleaved\n",
		c.Requests, nsName(0), offNamespace)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workloads\tper ns\tready\tRSS synced\tanon\tfile\tRSS peak\tRSS after\theap alloc\theap goal\tp50\tp99\tp50 none\tp99 none\toverhead p50\tCPU/create\tinside/call\t")
	for _, r := range rows {
		w50, w99, o50, o99 := quantile(r.Webhook, 0.5), quantile(r.Webhook, 0.99), quantile(r.Off, 0.5), quantile(r.Off, 0.99)
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%s\t%s\t%s\t%s\t%+.2fms\t%dµs\t%dµs\t\n",
			r.N, r.PerNamespace, r.Ready.Round(time.Millisecond), mib(r.Synced.RSS), mib(r.Synced.Anon), mib(r.Synced.File),
			mib(r.Synced.Peak), mib(r.After.RSS),
			r.HeapAlloc/(1<<20), r.NextGC/(1<<20), ms(w50), ms(w99), ms(o50), ms(o99),
			float64(w50-o50)/float64(time.Millisecond), r.CPU.Microseconds(), r.Inside.Microseconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return errors.New("nothing measured")
	}
	return nil
}
