package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/pkg/manifest"
)

// The end-to-end phase: server-side dry-run creates (nothing is stored, so
// nothing piles up) through a real kube-apiserver, one at a time, in namespaces
// that differ only in which admission runs:
//
//   - none:    labelled ha.laminar.io/enforce=off and ha.laminar.io/mutate=off,
//     so both webhook configurations' namespaceSelector leaves the
//     webhook out. Same objects, same API server, same installed
//     configurations — only the webhook calls are missing, which is
//     what we want to charge the webhook for.
//   - laminar: no label: the mutating and the validating webhook are called.
//   - no-op:   like none, plus perf.laminar.io/noop=on, which copies of the two
//     webhook configurations' entries select, pointing at the no-op webhook
//     (its own Service and certificate): the same two calls, answered at
//     once. The floor of any webhook on this API server and machine.
//   - patch replay: like no-op, with its own labels, Service and
//     certificate: the no-op binary answering each mutating call with the
//     patch laminar-ha-webhook gives that object (replay.go), so that the API
//     server's work on our patch is measured without ours.
//   - vap:     like none, plus perf.laminar.io/vap=on, which a
//     ValidatingAdmissionPolicy binding selects: the replica and
//     anti-affinity minimums written in CEL, the in-tree alternative.
//
// Two object sets: "minimal" (test/testdata/mutate/{api,controller}-minimal:
// the webhook fills in its defaults, then validates — the most work it does on
// an admitted object) and "compliant" (their golden outputs: nothing to fill
// in, as on every re-apply of an HA manifest). The VAP runs on the compliant
// set only: it does not fill in defaults, so it would deny the minimal one.
// Variants are interleaved in small blocks so that drift of a noisy machine
// hits them alike.

const (
	noopLabel   = "perf.laminar.io/noop"
	noopService = "laminar-ha-noop"
	vapLabel    = "perf.laminar.io/vap"
	vapName     = "laminar-ha-minimums"
	e2eBlock    = 25 // requests per variant before the next variant's turn
	e2eWarmUp   = 20
	e2eDeadline = 10 * time.Minute
)

type e2eVariant struct {
	name      string // e.g. "webhook, minimal"
	namespace string
	objects   []client.Object
	baseline  string // the variant this one's overhead is measured against
	webhook   string // the process answering its webhook calls (peers table); "" for none
	lat       []time.Duration
}

func e2ePhase(ctx context.Context, c Config, tmp, webhookBin, noopBin string, out io.Writer, logf func(string, ...any), rep *Report) error {
	ctx, cancel := context.WithTimeout(ctx, e2eDeadline)
	defer cancel()
	if err := devenv.CheckAssets(devenv.AssetsDir(c.RepoRoot, "")); err != nil {
		return err
	}
	env, err := devenv.Start(ctx, devenv.Options{
		RepoRoot:      c.RepoRoot,
		WebhookBinary: webhookBin,
		WorkDir:       filepath.Join(tmp, "e2e"),
		Logf:          logf,
	})
	if err != nil {
		return fmt.Errorf("e2e environment: %w", err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			logf("load: stopping the e2e environment: %v", err)
		}
	}()

	minimal, err := readObjects(c.RepoRoot, "test/testdata/mutate/api-minimal.yaml", "test/testdata/mutate/controller-minimal.yaml")
	if err != nil {
		return err
	}
	compliant, err := readObjects(c.RepoRoot, "test/testdata/mutate/api-minimal.golden.yaml", "test/testdata/mutate/controller-minimal.golden.yaml")
	if err != nil {
		return err
	}
	off := map[string]string{"ha.laminar.io/enforce": "off", "ha.laminar.io/mutate": "off"}
	nsNone, err := createNamespace(ctx, env, "perf-none", off)
	if err != nil {
		return err
	}
	nsWebhook, err := createNamespace(ctx, env, "perf-webhook", nil)
	if err != nil {
		return err
	}
	nsNoop, err := createNamespace(ctx, env, "perf-noop", offAnd(off, noopLabel))
	if err != nil {
		return err
	}
	noop, err := installNoop(ctx, env, tmp, noopBin, noopStandIn, nsNoop, minimal[0])
	if err != nil {
		return err
	}
	defer noop.Stop()
	variants := []*e2eVariant{
		{name: "none, minimal", namespace: nsNone, objects: minimal},
		{name: "no-op webhook, minimal", namespace: nsNoop, objects: minimal, baseline: "none, minimal", webhook: procNoop},
		{name: "laminar, minimal", namespace: nsWebhook, objects: minimal, baseline: "none, minimal", webhook: procLaminar},
		{name: "none, compliant", namespace: nsNone, objects: compliant},
		{name: "no-op webhook, compliant", namespace: nsNoop, objects: compliant, baseline: "none, compliant", webhook: procNoop},
		{name: "laminar, compliant", namespace: nsWebhook, objects: compliant, baseline: "none, compliant", webhook: procLaminar},
	}
	var kyvernoMetrics func() (string, error)
	pids := map[string]int{
		procAPIServer: childNamed(filepath.Join(env.AssetsDir, "kube-apiserver")),
		procLaminar:   childNamed(env.WebhookBinary),
		procNoop:      noop.PID(),
	}
	if c.KyvernoBinary != "" {
		kv, err := kyvernoPhase(ctx, c, env, tmp, off, nsWebhook, minimal[0], out, logf)
		if err != nil {
			return err
		}
		defer kv.Stop()
		pids[procKyverno] = kv.PID()
		kyvernoMetrics = kv.metrics
		variants = slices.Insert(variants, 3, &e2eVariant{name: "kyverno, minimal", namespace: kv.namespace, objects: minimal, baseline: "none, minimal", webhook: procKyverno})
		variants = append(variants, &e2eVariant{name: "kyverno, compliant", namespace: kv.namespace, objects: compliant, baseline: "none, compliant", webhook: procKyverno})
	}
	var checkReplay func() error
	if c.E2EReplay {
		nsReplay, err := createNamespace(ctx, env, "perf-replay", offAnd(off, replayLabel))
		if err != nil {
			return err
		}
		patches, err := webhookPatches(ctx, env, minimal, nsNone, nsWebhook)
		if err != nil {
			return err
		}
		dir := filepath.Join(tmp, "replay-patches")
		if err := writePatches(dir, patches); err != nil {
			return err
		}
		replay := standIn{name: "patch replay", prefix: "replay-", service: replayService, label: replayLabel, args: []string{"--patches", dir}}
		p, err := installNoop(ctx, env, tmp, noopBin, replay, nsReplay, minimal[0])
		if err != nil {
			return err
		}
		defer p.Stop()
		pids[procReplay] = p.PID()
		at := slices.IndexFunc(variants, func(v *e2eVariant) bool { return v.webhook == procNoop }) + 1
		variants = slices.Insert(variants, at, &e2eVariant{name: "patch replay, minimal", namespace: nsReplay, objects: minimal, baseline: "none, minimal", webhook: procReplay})
		checkReplay = func() error { return sameAdmittedSpecs(ctx, env, minimal, nsReplay, nsWebhook) }
	}
	if c.E2EVAP {
		nsVAP, err := createNamespace(ctx, env, "perf-vap", offAnd(off, vapLabel))
		if err != nil {
			return err
		}
		if err := installVAP(ctx, env, nsVAP, minimal[0]); err != nil {
			return err
		}
		variants = append(variants, &e2eVariant{name: "vap, compliant", namespace: nsVAP, objects: compliant, baseline: "none, compliant"})
	}
	// Budgets everywhere, so the webhook's pdb-missing warning does not fire.
	budgeted := map[string]bool{}
	for _, v := range variants {
		if budgeted[v.namespace] {
			continue
		}
		budgeted[v.namespace] = true
		if err := createBudgets(ctx, env, c.RepoRoot, v.namespace); err != nil {
			return err
		}
	}

	if checkReplay != nil {
		// With the budgets in place, as when timed.
		if err := checkReplay(); err != nil {
			return err
		}
	}
	logf("load: e2e: warming up")
	for _, v := range variants {
		for i := 0; i < e2eWarmUp; i++ {
			if _, err := dryRunCreate(ctx, env, v, i); err != nil {
				return fmt.Errorf("e2e %s: %w", v.name, err)
			}
		}
	}
	fmt.Fprintf(out, "\nend to end: server-side dry-run creates through kube-apiserver %s, one at a time, %d per variant and run (interleaved in blocks of %d), api Deployment and controller StatefulSet alternating\n",
		apiserverVersion(env), c.E2ERequests, e2eBlock)
	meter := newCPUMeter(pids)
	fmt.Fprintf(out, "processes measured: %s\n", peersSummary(pids))
	var runs []e2eRun
	for run := 0; run < c.Repeat; run++ {
		meter.reset()
		logf("load: e2e: run %d: %d dry-run creates per variant, %d variants", run+1, c.E2ERequests, len(variants))
		// Ours is scraped as a Prometheus would, with a token (devenv runs it with
		// cluster access, so /metrics is authenticated); the no-op has no cluster.
		ours := func() (string, error) { return env.Metrics(ctx) }
		theirs := func() (string, error) { return plainMetrics(noop.MetricsPort) }
		oursBefore, noopBefore := scrapeLatency(ours), scrapeLatency(theirs)
		var kyvernoBefore string
		if kyvernoMetrics != nil {
			kyvernoBefore, _ = kyvernoMetrics()
		}
		start := time.Now()
		for _, v := range variants {
			v.lat = v.lat[:0]
		}
		for done, round := 0, 0; done < c.E2ERequests; round++ {
			n := min(e2eBlock, c.E2ERequests-done)
			for k := range variants {
				v := variants[(k+round)%len(variants)]
				before := meter.snapshot()
				for i := 0; i < n; i++ {
					lat, err := dryRunCreate(ctx, env, v, done+i)
					if err != nil {
						return fmt.Errorf("e2e %s: %w", v.name, err)
					}
					v.lat = append(v.lat, lat)
				}
				meter.charge(v.name, before)
			}
			done += n
		}
		logf("load: e2e: run %d measured in %s", run+1, time.Since(start).Round(time.Millisecond))
		r := e2eRun{inside: map[string]webhookLatency{
			"laminar": scrapeLatency(ours).minus(oursBefore),
			"no-op":   scrapeLatency(theirs).minus(noopBefore),
		}}
		for _, v := range variants {
			lat := append([]time.Duration(nil), v.lat...)
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			r.rows = append(r.rows, e2eRow{name: v.name, baseline: v.baseline, n: len(lat),
				q: [4]time.Duration{quantile(lat, 0.5), quantile(lat, 0.9), quantile(lat, 0.99), quantile(lat, 1)}})
			rep.E2E = append(rep.E2E, E2EResult{Name: v.name, Latencies: lat})
		}
		runs = append(runs, r)
		fmt.Fprintf(out, "run %d\n", run+1)
		if err := printE2E(out, r); err != nil {
			return err
		}
		baseline := map[string]string{}
		for _, v := range variants {
			baseline[v.name] = v.baseline
		}
		fmt.Fprintf(out, "side by side, run %d (machine: %s)\n", run+1, machine())
		if err := PrintPeers(out, peerRows(variants, meter, readMemories(pids)), baseline); err != nil {
			return err
		}
		if kyvernoMetrics != nil {
			kyvernoAfter, _ := kyvernoMetrics()
			fmt.Fprintln(out, insideKyverno(kyvernoBefore, kyvernoAfter))
		}
		fmt.Fprintln(out)
	}
	if len(runs) > 1 {
		fmt.Fprintf(out, "median of %d runs\n", len(runs))
		if err := printE2E(out, medianE2E(runs)); err != nil {
			return err
		}
	}
	return nil
}

// e2eRun is one measured pass over every variant.
type e2eRun struct {
	rows []e2eRow
	// inside is the time spent inside each webhook per call, by path.
	inside map[string]webhookLatency
}

type e2eRow struct {
	name, baseline string
	n              int
	q              [4]time.Duration // p50, p90, p99, max
}

func printE2E(out io.Writer, r e2eRun) error {
	byName := map[string]e2eRow{}
	for _, row := range r.rows {
		byName[row.name] = row
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "admission\trequests\tp50\tp90\tp99\tmax\toverhead p50\toverhead p99\t")
	for _, row := range r.rows {
		o50, o99 := "", ""
		if b, ok := byName[row.baseline]; ok {
			o50 = signedMS(row.q[0] - b.q[0])
			o99 = signedMS(row.q[2] - b.q[2])
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", row.name, row.n, ms(row.q[0]), ms(row.q[1]), ms(row.q[2]), ms(row.q[3]), o50, o99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "time inside the webhook per call (controller_runtime_webhook_latency_seconds: decode, handler, encode; no TLS, no network): laminar %s; no-op %s\n\n",
		r.inside["laminar"], r.inside["no-op"])
	return err
}

// medianE2E takes the median of every figure over the runs. Overheads are
// computed from the median quantiles.
func medianE2E(runs []e2eRun) e2eRun {
	med := func(v []float64) float64 {
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	out := e2eRun{inside: map[string]webhookLatency{}}
	for i, row := range runs[0].rows {
		m := e2eRow{name: row.name, baseline: row.baseline, n: row.n}
		for k := range m.q {
			var v []float64
			for _, r := range runs {
				v = append(v, float64(r.rows[i].q[k]))
			}
			m.q[k] = time.Duration(med(v))
		}
		out.rows = append(out.rows, m)
	}
	for _, name := range []string{"laminar", "no-op"} {
		wl := webhookLatency{}
		for _, path := range []string{"/mutate", "/validate"} {
			var v []float64
			for _, r := range runs {
				if e := r.inside[name][path]; e[1] > 0 {
					v = append(v, e[0]/e[1])
				}
			}
			if len(v) > 0 {
				wl[path] = [2]float64{med(v), 1}
			}
		}
		out.inside[name] = wl
	}
	return out
}

// webhookLatency sums controller_runtime_webhook_latency_seconds over paths.
type webhookLatency map[string][2]float64 // path -> sum seconds, count

// minus is the difference of two scrapes.
func (a webhookLatency) minus(b webhookLatency) webhookLatency {
	out := webhookLatency{}
	for path, e := range a {
		out[path] = [2]float64{e[0] - b[path][0], e[1] - b[path][1]}
	}
	return out
}

// String gives the mean time per call of each path.
func (a webhookLatency) String() string {
	var parts []string
	for _, path := range []string{"/mutate", "/validate"} {
		sum, n := a[path][0], a[path][1]
		if n <= 0 {
			parts = append(parts, path+" -")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0fµs", path, sum/n*1e6))
	}
	return strings.Join(parts, ", ")
}

// plainMetrics reads /metrics of a webhook run without cluster access (plain HTTP).
func plainMetrics(metricsPort int) (string, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return string(body), err
}

// scrapeLatency reads a webhook's controller_runtime_webhook_latency_seconds
// sums and counts from its /metrics.
func scrapeLatency(scrape func() (string, error)) webhookLatency {
	out := webhookLatency{}
	body, err := scrape()
	if err != nil {
		return out
	}
	for _, line := range strings.Split(body, "\n") {
		var idx int
		switch {
		case strings.HasPrefix(line, "controller_runtime_webhook_latency_seconds_sum{"):
			idx = 0
		case strings.HasPrefix(line, "controller_runtime_webhook_latency_seconds_count{"):
			idx = 1
		default:
			continue
		}
		for _, path := range []string{"/mutate", "/validate"} {
			if !strings.Contains(line, `webhook="`+path+`"`) {
				continue
			}
			f := strings.Fields(line)
			var v float64
			if _, err := fmt.Sscan(f[len(f)-1], &v); err == nil {
				e := out[path]
				e[idx] += v
				out[path] = e
			}
		}
	}
	return out
}

func quantile(s []time.Duration, q float64) time.Duration {
	return Result{Latencies: s}.Quantile(q)
}

func signedMS(d time.Duration) string {
	return fmt.Sprintf("%+.2fms", float64(d)/float64(time.Millisecond))
}

// offAnd is the labels of a namespace both Laminar configurations leave out
// (off) that label=on selects for a stand-in.
func offAnd(off map[string]string, label string) map[string]string {
	out := maps.Clone(off)
	out[label] = "on"
	return out
}

// dryRun creates (dry run) a copy of obj in ns and returns it as the API
// server admitted it.
func dryRun(ctx context.Context, env *devenv.Env, obj client.Object, ns string) (client.Object, error) {
	o := obj.DeepCopyObject().(client.Object)
	o.SetNamespace(ns)
	return o, env.Client.Create(ctx, o, client.DryRunAll)
}

// dryRunCreate sends one of the variant's objects and times the round trip.
func dryRunCreate(ctx context.Context, env *devenv.Env, v *e2eVariant, i int) (time.Duration, error) {
	obj := v.objects[i%len(v.objects)].DeepCopyObject().(client.Object)
	obj.SetNamespace(v.namespace)
	start := time.Now()
	err := env.Client.Create(ctx, obj, client.DryRunAll)
	return time.Since(start), err
}

func readObjects(root string, paths ...string) ([]client.Object, error) {
	var out []client.Object
	for _, p := range paths {
		raw, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return nil, err
		}
		obj, gvk, err := manifest.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		co, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("%s: not an object", p)
		}
		out = append(out, co)
	}
	return out, nil
}

func createNamespace(ctx context.Context, env *devenv.Env, name string, labels map[string]string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := env.Client.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("namespace %s: %w", name, err)
	}
	return name, nil
}

func createBudgets(ctx context.Context, env *devenv.Env, root, ns string) error {
	data, err := os.ReadFile(filepath.Join(root, "examples", "pdbs.yaml"))
	if err != nil {
		return err
	}
	objs, err := devenv.DecodeObjects(data)
	if err != nil {
		return err
	}
	for _, o := range objs {
		o.SetNamespace(ns)
		if err := env.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("budget %s/%s: %w", ns, o.GetName(), err)
		}
	}
	return nil
}

// VAP expressions: the replica minimum and the anti-affinity minimums of the
// guide, per role (told by the object's own app label, which the binding's
// objectSelector requires, like the webhook configurations').
const (
	celReplicas    = `object.spec.replicas >= 2`
	celAPIAffinity = `object.metadata.labels['app'] != 'laminar-api' || (
  has(object.spec.template.spec.affinity) && has(object.spec.template.spec.affinity.podAntiAffinity) &&
  has(object.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution) &&
  object.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.exists(t,
    t.podAffinityTerm.topologyKey == 'kubernetes.io/hostname' &&
    has(t.podAffinityTerm.labelSelector) && has(t.podAffinityTerm.labelSelector.matchLabels) &&
    'app' in t.podAffinityTerm.labelSelector.matchLabels &&
    t.podAffinityTerm.labelSelector.matchLabels['app'] == 'laminar-api'))`
	celControllerAffinity = `object.metadata.labels['app'] != 'laminar-controller' || (
  has(object.spec.template.spec.affinity) && has(object.spec.template.spec.affinity.podAntiAffinity) &&
  has(object.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution) &&
  object.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.exists(t,
    t.topologyKey == 'kubernetes.io/hostname' &&
    has(t.labelSelector) && has(t.labelSelector.matchLabels) &&
    'app' in t.labelSelector.matchLabels && t.labelSelector.matchLabels['app'] == 'laminar-controller'))`
)

// installVAP creates the policy and its binding to namespaces labelled
// perf.laminar.io/vap=on, and waits until the API server enforces it.
func installVAP(ctx context.Context, env *devenv.Env, ns string, probe client.Object) error {
	deny := admissionregistrationv1.Fail
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: vapName},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &deny,
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"laminar-api", "laminar-controller"},
				}}},
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule: admissionregistrationv1.Rule{
							APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments", "statefulsets"},
						},
					},
				}},
			},
			Validations: []admissionregistrationv1.Validation{
				{Expression: celReplicas, MessageExpression: `'[replicas-min] spec.replicas is ' + string(object.spec.replicas) + '; a Laminar workload needs at least 2'`},
				{Expression: celAPIAffinity, Message: "[api-anti-affinity] a Laminar api needs preferred pod anti-affinity on kubernetes.io/hostname selecting its own pods"},
				{Expression: celControllerAffinity, Message: "[controller-anti-affinity] a Laminar controller needs required pod anti-affinity on kubernetes.io/hostname selecting its own pods"},
			},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: vapName},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        vapName,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{vapLabel: "on"}},
			},
		},
	}
	if err := env.Client.Create(ctx, policy); err != nil {
		return fmt.Errorf("ValidatingAdmissionPolicy: %w", err)
	}
	if err := env.Client.Create(ctx, binding); err != nil {
		return fmt.Errorf("ValidatingAdmissionPolicyBinding: %w", err)
	}
	// The API server picks policies up from an informer: wait until a
	// single-replica api Deployment is denied in the VAP namespace.
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		obj := probe.DeepCopyObject().(client.Object)
		obj.SetNamespace(ns)
		obj.SetName("vap-probe")
		if d, ok := obj.(*appsv1.Deployment); ok {
			d.Spec.Replicas = ptr.To[int32](1)
		}
		err := env.Client.Create(ctx, obj, client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "[replicas-min]") {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the ValidatingAdmissionPolicy is not enforced after 60s (last answer: %v)", last)
}

// apiserverVersion is the control plane's version, for the report.
func apiserverVersion(env *devenv.Env) string {
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		return "(unknown version)"
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "(unknown version)"
	}
	return v.GitVersion
}

// standIn is a no-op webhook process the API server calls instead of ours in
// the namespaces carrying its label.
type standIn struct {
	name    string   // for logs and errors
	prefix  string   // of its webhook entries' names
	service string   // its Service (and configurations' name)
	label   string   // the namespace label its webhook entries select (=on)
	args    []string // more noop flags
}

// noopStandIn is the no-op itself.
var noopStandIn = standIn{name: "no-op", prefix: "noop-", service: noopService, label: noopLabel}

// installNoop starts the no-op webhook as s with a certificate for its own
// Service, installs copies of the Laminar webhook entries (mutate-app,
// validate-app) that call it for namespaces labelled s.label=on, and waits
// until the API server calls it for ns.
func installNoop(ctx context.Context, env *devenv.Env, tmp, noopBin string, s standIn, ns string, probe client.Object) (*Process, error) {
	host := s.service + "." + devenv.Namespace + ".svc"
	certs, err := devenv.NewCerts(host, "localhost")
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(tmp, s.service+"-certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	if err := certs.WriteServing(certDir); err != nil {
		return nil, err
	}
	p, err := startServer(ctx, s.name+" (e2e)", noopBin, s.args, nil, certDir, filepath.Join(tmp, s.service+"-e2e.log"))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Process, error) {
		p.Stop()
		return nil, err
	}
	port := int32(p.Port)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: s.service, Namespace: devenv.Namespace},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: port, TargetPort: intstr.FromInt32(port)}}},
	}
	if err := env.Client.Create(ctx, svc); err != nil {
		return fail(fmt.Errorf("%s Service: %w", s.name, err))
	}
	objs, err := devenv.LoadManifests(env.RepoRoot)
	if err != nil {
		return fail(err)
	}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{s.label: "on"}}
	redirect := func(name string, cc *admissionregistrationv1.WebhookClientConfig) string {
		cc.Service = &admissionregistrationv1.ServiceReference{Namespace: devenv.Namespace, Name: s.service, Path: cc.Service.Path, Port: &port}
		cc.CABundle = certs.CACert
		return s.prefix + name
	}
	var created int
	for _, o := range objs {
		switch o := o.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			cfg := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: s.service}}
			for _, w := range o.Webhooks {
				if strings.HasPrefix(w.Name, "mutate.") {
					w.Name = redirect(w.Name, &w.ClientConfig)
					w.NamespaceSelector = selector
					cfg.Webhooks = append(cfg.Webhooks, w)
				}
			}
			if err := env.Client.Create(ctx, cfg); err != nil {
				return fail(fmt.Errorf("%s MutatingWebhookConfiguration: %w", s.name, err))
			}
			created += len(cfg.Webhooks)
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: s.service}}
			for _, w := range o.Webhooks {
				if strings.HasPrefix(w.Name, "validate.") {
					w.Name = redirect(w.Name, &w.ClientConfig)
					w.NamespaceSelector = selector
					cfg.Webhooks = append(cfg.Webhooks, w)
				}
			}
			if err := env.Client.Create(ctx, cfg); err != nil {
				return fail(fmt.Errorf("%s ValidatingWebhookConfiguration: %w", s.name, err))
			}
			created += len(cfg.Webhooks)
		}
	}
	if created != 2 {
		return fail(fmt.Errorf("deploy/manifests: want one mutate-app and one validate-app webhook to copy, found %d", created))
	}
	// Wait until both entries call the no-op webhook: its own metrics count them.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := dryRun(ctx, env, probe, ns); err != nil {
			return fail(fmt.Errorf("%s probe: %w", s.name, err))
		}
		if calledBoth(p.MetricsPort) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fail(fmt.Errorf("the API server does not call the %s webhook after 60s\n%s", s.name, p.LogTail()))
}

// calledBoth reads the no-op webhook's controller_runtime_webhook_requests_total
// for /mutate and /validate.
func calledBoth(metricsPort int) bool {
	body, err := plainMetrics(metricsPort)
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "controller_runtime_webhook_requests_total{") || strings.HasSuffix(line, " 0") {
			continue
		}
		for _, path := range []string{`webhook="/mutate"`, `webhook="/validate"`} {
			if strings.Contains(line, path) {
				seen[path] = true
			}
		}
	}
	return len(seen) == 2
}
