package scenarios

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// Bounds of the waits. Scheduling and kwok's pod stages take a second or two
// here; a failure takes the node monitor grace period (10 s) plus the pods'
// toleration (10 s, below); the rest is room for a busy two-core machine.
const (
	settleTimeout = 120 * time.Second
	nodeTimeout   = 90 * time.Second
	// budgetTimeout outlasts the disruption controller's DeletionTimeout (two
	// minutes), after which it stops counting an evicted pod's name as
	// disrupted (see waitBudgetsAllow).
	budgetTimeout = 150 * time.Second
)

// tolerationSeconds shortens the devenv default (30 s, upstream 300 s) so the
// two failure scenarios fit the suite's time budget. It changes when evictions
// start, not what the scheduler and the controllers do then; the durations it
// shapes are figures, never asserted.
const tolerationSeconds = 10

// suite is one running environment (one topology) of the scenario suite.
type suite struct {
	t     *testing.T
	topo  string
	env   *devenv.Env
	watch *readyWatch
}

// start brings up an environment with the simulated cluster o, and stops it
// when the test ends.
func start(t *testing.T, topo string, o *devenv.ClusterOptions) *suite {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := webhook(ctx)
	require.NoError(t, err)
	o.TolerationSeconds = tolerationSeconds
	began := time.Now()
	env, err := devenv.StartSuite(devenv.Options{RepoRoot: repoRoot, WebhookBinary: bin, Cluster: o},
		testing.Verbose() && os.Getenv("SCENARIOS_DEBUG") != "")
	require.NoError(t, err, "start the %s cluster", topo)
	s := &suite{t: t, topo: topo, env: env}
	t.Cleanup(func() {
		if s.watch != nil {
			s.watch.stop()
		}
		if t.Failed() {
			names := []string{"kube-scheduler", "kube-controller-manager"}
			for _, n := range env.Cluster.Nodes() {
				names = append(names, "kwok-"+n.Name) // each node's kubelet
			}
			for _, name := range names {
				t.Log(env.Cluster.LogTail(name))
			}
		}
		if err := env.Stop(); err != nil {
			t.Errorf("stop the %s cluster: %v", topo, err)
		}
	})
	cs, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	s.watch, err = startReadyWatch(context.Background(), cs)
	require.NoError(t, err)
	t.Logf("%s: cluster ready in %s", topo, time.Since(began).Round(time.Millisecond))
	return s
}

// group is the watch's key of a workload in a mode.
func group(w workload, mode string) string { return w.namespace(mode) + "/" + w.App }

func allGroups() map[string]int {
	out := map[string]int{}
	for _, w := range workloads {
		for _, m := range modes {
			out[group(w, m)] = w.Replicas
		}
	}
	return out
}

// install creates the namespaces and applies the workloads: the examples with
// the guide's budgets (examples/pdbs.yaml, in both modes, so a drain is held
// to the same budgets) and the Helm-rendered api without any. It returns when
// every object is created, not when the pods run.
func (s *suite) install(ctx context.Context) {
	t := s.t
	for _, m := range modes {
		for _, prefix := range []string{apiExample.NS, apiHelm.NS} {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-" + m}}
			if m == withoutWebhook {
				// What an admin does to opt a namespace out: no mutation, no
				// enforcement.
				ns.Labels = map[string]string{policy.LabelMode: policy.ModeOff, policy.LabelMutate: policy.MutateOff}
			}
			require.NoError(t, s.env.Client.Create(ctx, ns))
		}
		files := []struct{ ns, file string }{
			{apiExample.namespace(m), "examples/pdbs.yaml"},
			{apiExample.namespace(m), apiExample.File},
			{controller.namespace(m), controller.File},
			{apiHelm.namespace(m), apiHelm.File},
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(repoRoot, f.file))
			require.NoError(t, err)
			objs, err := devenv.DecodeObjects(data)
			require.NoError(t, err, f.file)
			for _, o := range objs {
				o.SetNamespace(f.ns)
				require.NoError(t, s.env.Client.Create(ctx, o), "%s in %s", f.file, f.ns)
			}
		}
	}
}

// state is what a workload's pods look like at one moment.
type state struct {
	Ready         int
	Total         int // pods not terminating
	Pending       int // not terminating, not bound to a node
	Unschedulable int // Pending, and the scheduler said why
	Stuck         int // terminating on a node that is not Ready: nothing will confirm the deletion
	Terminating   int
	Zones         map[string]int // Ready pods per zone that has a schedulable node
	Hosts         map[string]int // Ready pods per node
	Why           string         // the scheduler's message for an unschedulable pod
	// NotReady names the bound pods not serving, with their node and phase: what
	// a report needs when a wait for them times out.
	NotReady []string
}

func (st state) zoneSkew(zoned bool) int {
	if !zoned {
		return -1
	}
	lo, hi := -1, 0
	for _, n := range st.Zones {
		hi = max(hi, n)
		if lo < 0 || n < lo {
			lo = n
		}
	}
	return hi - max(lo, 0)
}

func (st state) perHost() int {
	most := 0
	for _, n := range st.Hosts {
		most = max(most, n)
	}
	return most
}

// zoneLetters is where the Ready pods are, as sorted zone letters ("a,b,c").
func (st state) zoneLetters() string {
	var out []string
	for z, n := range st.Zones {
		for range n {
			out = append(out, strings.TrimPrefix(z, devenv.ClusterRegion))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "")
}

func (s *suite) snapshot(ctx context.Context, w workload, mode string) (state, error) {
	st := state{Zones: map[string]int{}, Hosts: map[string]int{}}
	var nodes corev1.NodeList
	if err := s.env.Client.List(ctx, &nodes); err != nil {
		return st, err
	}
	zoneOf, nodeOK := map[string]string{}, map[string]bool{}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		zoneOf[n.Name] = n.Labels[corev1.LabelTopologyZone]
		nodeOK[n.Name] = devenv.NodeReady(n)
		if z := zoneOf[n.Name]; z != "" && nodeOK[n.Name] && !n.Spec.Unschedulable {
			st.Zones[z] += 0 // a zone the scheduler can use counts, even empty
		}
	}
	var pods corev1.PodList
	if err := s.env.Client.List(ctx, &pods, client.InNamespace(w.namespace(mode)),
		client.MatchingLabels{"app": w.App}); err != nil {
		return st, err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			st.Terminating++
			if !nodeOK[p.Spec.NodeName] {
				st.Stuck++
			}
			continue
		}
		st.Total++
		if p.Spec.NodeName == "" {
			st.Pending++
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					st.Unschedulable++
					st.Why = c.Message
				}
			}
		}
		if p.Spec.NodeName != "" && !serving(p) {
			st.NotReady = append(st.NotReady, fmt.Sprintf("%s on %s (node Ready %v), %s", p.Name, p.Spec.NodeName, nodeOK[p.Spec.NodeName], p.Status.Phase))
		}
		if serving(p) {
			st.Ready++
			st.Hosts[p.Spec.NodeName]++
			if z := zoneOf[p.Spec.NodeName]; z != "" {
				st.Zones[z]++
			}
		}
	}
	return st, nil
}

// full: every replica Ready, nothing else left.
func (st state) full(w workload) bool {
	return st.Ready == w.Replicas && st.Total == w.Replicas && st.Terminating == 0
}

// settled: every replica is Ready, or what is missing cannot come by itself —
// the scheduler found no node for it, or (a StatefulSet, which never runs two
// pods of one identity) the old pod is stuck on a dead node.
func (st state) settled(w workload) bool {
	if st.Ready == w.Replicas && st.Total == w.Replicas {
		return true
	}
	blocked := st.Unschedulable > 0 || (w.Kind == "StatefulSet" && st.Stuck > 0)
	return blocked && st.Ready+st.Unschedulable == st.Total
}

// waitAll waits until cond holds for every workload in both modes.
func (s *suite) waitAll(ctx context.Context, what string, ws []workload, cond func(workload, state) bool) error {
	return devenv.WaitFor(ctx, settleTimeout, what, func(ctx context.Context) (bool, string) {
		var report []string
		ok := true
		for _, w := range ws {
			for _, m := range modes {
				st, err := s.snapshot(ctx, w, m)
				if err != nil {
					return false, err.Error()
				}
				if !cond(w, st) {
					ok = false
					report = append(report, fmt.Sprintf("%s/%s: %d Ready of %d, %d pods, %d pending, %d terminating %s; not Ready: %s",
						w.namespace(m), w.App, st.Ready, w.Replicas, st.Total, st.Pending, st.Terminating, st.Why, strings.Join(st.NotReady, ", ")))
				}
			}
		}
		return ok, strings.Join(report, "; ")
	})
}

func (s *suite) waitFull(ctx context.Context) {
	s.t.Helper()
	require.NoError(s.t, s.waitAll(ctx, "every workload back at full strength", workloads,
		func(w workload, st state) bool { return st.full(w) }))
}

// waitBudgetsAllow waits until every budget that selects a pod on node allows
// a disruption, in a status the disruption controller wrote after the
// budget's last change: then a drain of node can start evicting. (Not one per
// pod on the node: kubectl drain evicts the others as the first ones'
// replacements turn Ready, and a budget may well select two pods on one node
// where nothing spreads them.)
//
// Full strength is not enough: the eviction API trusts the budget's status,
// which kube-controller-manager's disruption controller writes after the pods
// change, and an evicted pod's name stays in status.disruptedPods — counted as
// not healthy — until the controller sees the pod terminating, or for two
// minutes. kwok deletes an evicted pod at once and the StatefulSet recreates
// it under the same name, so a controller that falls behind can count a Ready
// controller pod as disrupted; once, on a busy CI machine, a drain was refused
// a controller pod's eviction for longer than its timeout. A drain that starts
// from a budget with room finishes in seconds; when the wait is needed, it is
// logged with the budgets' status.
func (s *suite) waitBudgetsAllow(ctx context.Context, node string) {
	s.t.Helper()
	waited := ""
	err := devenv.WaitFor(ctx, budgetTimeout, "the budgets to allow a drain of "+node, func(ctx context.Context) (bool, string) {
		var pdbs policyv1.PodDisruptionBudgetList
		if err := s.env.Client.List(ctx, &pdbs); err != nil {
			return false, err.Error()
		}
		var pods corev1.PodList
		if err := s.env.Client.List(ctx, &pods, client.MatchingFields{"spec.nodeName": node}); err != nil {
			return false, err.Error()
		}
		var short []string
		for i := range pdbs.Items {
			b := &pdbs.Items[i]
			sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
			if err != nil {
				return false, fmt.Sprintf("%s/%s: %v", b.Namespace, b.Name, err)
			}
			onNode := 0
			for j := range pods.Items {
				p := &pods.Items[j]
				if p.Namespace == b.Namespace && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) {
					onNode++
				}
			}
			st := b.Status
			if onNode > 0 && (st.ObservedGeneration < b.Generation || st.DisruptionsAllowed < 1) {
				short = append(short, fmt.Sprintf("%s/%s allows %d disruptions for its %d pods on the node (healthy %d of %d, disrupted %v, status of generation %d of %d)",
					b.Namespace, b.Name, st.DisruptionsAllowed, onNode, st.CurrentHealthy, st.ExpectedPods,
					slices.Sorted(maps.Keys(st.DisruptedPods)), st.ObservedGeneration, b.Generation))
			}
		}
		if len(short) > 0 && waited == "" {
			waited = strings.Join(short, "; ")
		}
		return len(short) == 0, strings.Join(short, "; ")
	})
	require.NoError(s.t, err)
	if waited != "" {
		s.t.Logf("before draining %s, waited for the budgets: %s", node, waited)
	}
}

// record logs the figures line and keeps the figures for the doc.
func (s *suite) record(sc string, w workload, mode string, f figure) {
	f.Replicas = w.Replicas
	figures.record(rowKey{sc, s.topo, w.Name, mode}, f)
	s.t.Logf("figures: scenario=%q topology=%s workload=%q webhook=%s %s", sc, s.topo, w.Name, mode, f)
}

// zoned says whether the cluster's nodes carry zone labels.
func (s *suite) zoned() bool { return len(s.env.Cluster.Zones()) > 0 }

// multiZone says whether the webhook's zone spread applies here.
func (s *suite) multiZone() bool { return len(s.env.Cluster.Zones()) > 1 }

// recoverTime turns a window's result into the figure's time to recover,
// measured from t0.
func recoverTime(r result, t0 time.Time) time.Duration {
	switch {
	case !r.Dipped:
		return 0
	case r.Recovered.IsZero():
		return -1
	}
	return r.Recovered.Sub(t0)
}

// deployment reads a Deployment.
func (s *suite) deployment(ctx context.Context, w workload, mode string) (*appsv1.Deployment, error) {
	d := &appsv1.Deployment{}
	name := "laminar-api"
	return d, s.env.Client.Get(ctx, client.ObjectKey{Namespace: w.namespace(mode), Name: name}, d)
}

// podsOn lists our pods on the named nodes.
func (s *suite) podsOn(ctx context.Context, nodes []string) ([]corev1.Pod, error) {
	var out []corev1.Pod
	for _, w := range []workload{apiExample, apiHelm, controller} {
		for _, m := range modes {
			var pods corev1.PodList
			if err := s.env.Client.List(ctx, &pods, client.InNamespace(w.namespace(m)),
				client.MatchingLabels{"app": w.App}); err != nil {
				return nil, err
			}
			for _, p := range pods.Items {
				if slices.Contains(nodes, p.Spec.NodeName) {
					out = append(out, p)
				}
			}
		}
	}
	return out, nil
}
