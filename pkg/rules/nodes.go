package rules

import corev1 "k8s.io/api/core/v1"

// Nodes is what the rules know of the cluster's schedulable nodes: those a
// Laminar pod may land on (not cordoned, no NoSchedule or NoExecute taint).
// Some defaults depend on it, so that no default asks the scheduler for a
// placement the cluster cannot give — a zone spread over nodes without a zone
// label leaves every pod Pending.
type Nodes struct {
	// Known is false where no Node is known: the offline check given no Node
	// objects, a webhook without cluster access, or a cache not yet filled. The
	// rules then assume what the guide does: several hosts over several zones.
	Known bool
	// Labels holds each schedulable node's labels.
	Labels []map[string]string
}

// Hosts is the number of schedulable nodes.
func (n Nodes) Hosts() int { return len(n.Labels) }

// Spread tells how the schedulable nodes cover the topology key: how many
// carry it, and how many distinct values they give.
func (n Nodes) Spread(key string) (labelled, domains int) {
	seen := map[string]bool{}
	for _, l := range n.Labels {
		if v, ok := l[key]; ok {
			labelled++
			seen[v] = true
		}
	}
	return labelled, len(seen)
}

// CanSpread reports whether a DoNotSchedule spread over key can place pods:
// every schedulable node carries the key (the scheduler filters out nodes
// that lack it) and there are at least two domains to spread over. True when
// nothing is known.
func (n Nodes) CanSpread(key string) bool {
	if !n.Known {
		return true
	}
	labelled, domains := n.Spread(key)
	return labelled == n.Hosts() && domains >= 2
}

// NodesOf is what nodes tell: the labels of those a pod without tolerations
// may be scheduled on (not cordoned, no NoSchedule or NoExecute taint). No
// such node at all is "nothing known": a node pool autoscaled from zero has
// none until pods ask for one.
func NodesOf(nodes []corev1.Node) Nodes {
	var n Nodes
	for i := range nodes {
		if schedulable(&nodes[i]) {
			n.Labels = append(n.Labels, nodes[i].Labels)
		}
	}
	n.Known = len(n.Labels) > 0
	return n
}

func schedulable(node *corev1.Node) bool {
	if node.Spec.Unschedulable {
		return false
	}
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	return true
}

// FitsHosts reports whether replicas pods fit one per host, hosts being the
// schedulable nodes carrying key. True when nothing is known.
func (n Nodes) FitsHosts(replicas int32, key string) bool {
	if !n.Known {
		return true
	}
	hosts, _ := n.Spread(key)
	return int(replicas) <= hosts
}
