package audit

import (
	"context"
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/report"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// LiveOptions say what Live judges and how.
type LiveOptions struct {
	// Namespace limits the audit to one namespace; empty means all.
	Namespace string
	// Mode, when set (policy.ModeDeny or policy.ModeWarn), judges every
	// namespace as if its enforcement were Mode: a preview of a switch. Empty
	// judges each in its own mode, a namespace on off as on warn (listed, not
	// denied).
	Mode   string
	Policy *policy.Policy
	Now    time.Time
	Tool   report.Tool
}

// Live lists the Laminar workloads a cluster stores, with their budgets,
// autoscalers, namespaces and nodes, and judges each as the background audit
// does, into the check command's report.
func Live(ctx context.Context, c client.Reader, o LiveOptions) (*report.Report, error) {
	in := []client.InNamespace{client.InNamespace(o.Namespace)}
	lists := []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{},
		&policyv1.PodDisruptionBudgetList{}, &autoscalingv2.HorizontalPodAutoscalerList{}, &corev1.ServiceList{}}
	var objs []client.Object
	for _, l := range lists {
		if err := c.List(ctx, l, in[0]); err != nil {
			return nil, fmt.Errorf("list %T: %w", l, err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			objs = append(objs, it.(client.Object))
		}
	}
	var namespaces corev1.NamespaceList
	if err := c.List(ctx, &namespaces); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	nsLabels := map[string]map[string]string{}
	for _, n := range namespaces.Items {
		nsLabels[n.Name] = n.Labels
	}
	var nodes corev1.NodeList
	if err := c.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	view, err := cluster.FromObjects(objs)
	if err != nil {
		return nil, err
	}
	nodeView := fixedNodes(rules.NodesOf(nodes.Items))

	r := report.New(o.Tool, false)
	r.Live, r.Policy = true, o.Policy
	var ws []*workload.Workload
	for _, obj := range objs {
		if w, ok := workload.FromObject(obj); ok && w.Meta.DeletionTimestamp == nil {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		a, b := ws[i], ws[j]
		if a.Meta.Namespace != b.Meta.Namespace {
			return a.Meta.Namespace < b.Meta.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Meta.Name < b.Meta.Name
	})
	for _, w := range ws {
		enforce, _ := o.Policy.EnforceMode(nsLabels[w.Meta.Namespace])
		mode := o.Mode
		if mode == "" {
			mode = enforce
			if mode == policy.ModeOff {
				mode = policy.ModeWarn
			}
		}
		s := rules.Situation{Ctx: ctx, Now: o.Now, View: view, Nodes: admit.NodesFor(ctx, nodeView, o.Policy)}
		for _, obj := range Judge(w, o.Policy, mode, s).Objects(enforce) {
			r.AddObject(obj)
		}
	}
	return r, nil
}

// fixedNodes is a NodeSource of nodes listed once.
type fixedNodes rules.Nodes

func (n fixedNodes) Nodes(context.Context) rules.Nodes { return rules.Nodes(n) }
