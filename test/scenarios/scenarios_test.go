package scenarios

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// scenarioContext bounds one scenario, waits included.
func scenarioContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// step runs one scenario as a subtest and stops the topology's test when it
// fails: the scenarios of a topology run one after another on the same
// workloads, as a cluster lives through them, and the next one would start
// from an unknown state.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// On six nodes over three zones: creation, three rollouts, a drain of every
// node, a node failure and a zone outage, with and without the webhook.
func TestThreeZones(t *testing.T) {
	s := start(t, "three-zones", devenv.ThreeZones())
	step(t, "create", s.create)
	step(t, "rollout", s.rollout)
	step(t, "drain", s.drain)
	step(t, "node failure", s.nodeFailure)
	step(t, "zone outage", s.zoneOutage)
}

// The hostile topologies, each its own cluster: nodes without zone labels (bare
// metal, kind), a single zone, and two nodes for the controller's three
// replicas. Our defaults must never turn a schedulable workload into Pending
// pods, at creation or in a rollout.
func TestHostileTopologies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster *devenv.ClusterOptions
	}{
		{"no-zones", devenv.NoZones()},
		{"one-zone", devenv.OneZone()},
		{"two-nodes", devenv.TwoNodes()},
	} {
		step(t, tc.name, func(t *testing.T) {
			s := start(t, tc.name, tc.cluster)
			step(t, "create", s.create)
			step(t, "rollout", s.rollout)
		})
	}
}

// create installs the workloads and, once the scheduler has placed what it can,
// records where the pods went. With the webhook nothing may stay Pending that
// runs without it, and the zone spreads it injects must hold.
func (s *suite) create(t *testing.T) {
	ctx := scenarioContext(t, 3*time.Minute)
	s.t = t
	win := s.watch.open(allGroups())
	t0 := time.Now()
	s.install(ctx)
	settled := func(w workload, st state) bool { return st.settled(w) }
	require.NoError(t, s.waitAll(ctx, "every workload Ready or stuck", workloads, settled))
	res := s.watch.close(win)

	got := map[string]state{}
	for _, w := range workloads {
		for _, m := range modes {
			st, err := s.snapshot(ctx, w, m)
			require.NoError(t, err)
			got[group(w, m)] = st
			rec := time.Duration(-1)
			if r := res[group(w, m)]; !r.Recovered.IsZero() {
				rec = r.Recovered.Sub(t0)
			}
			s.record(scCreate, w, m, figure{MinReady: st.Ready, ZoneSkew: st.zoneSkew(s.zoned()), PerHost: st.perHost(),
				Pending: st.Pending, Recover: rec, Note: s.placement(st)})
		}
	}
	for _, w := range workloads {
		with, without := got[group(w, withWebhook)], got[group(w, withoutWebhook)]
		if without.Pending == 0 {
			assert.Zero(t, with.Pending, "%s: the webhook's defaults leave pods Pending where the plain workload runs: %s", w.Name, with.Why)
		}
		if s.multiZone() {
			assert.LessOrEqual(t, with.zoneSkew(true), 1, "%s: zone spread with the webhook: %v", w.Name, with.Zones)
		}
		if w == controller && len(s.env.Cluster.Nodes()) >= w.Replicas {
			assert.Equal(t, 1, with.perHost(), "controller: one replica per node with the webhook: %v", with.Hosts)
		}
	}
}

// placement is a figure's note: the Ready pods' zones (or nodes without
// zones), and the scheduler's reason for a pod it could not place.
func (s *suite) placement(st state) string {
	note := fmt.Sprintf("on %d nodes", len(st.Hosts))
	if s.zoned() {
		note = "zones " + st.zoneLetters()
	}
	if st.Why != "" {
		note += "; Pending: " + st.Why
	}
	return note
}

func apiGroups() map[string]int {
	out := map[string]int{}
	for _, w := range apis {
		for _, m := range modes {
			out[group(w, m)] = w.Replicas
		}
	}
	return out
}

// rollout changes the api's image three times in a row, waiting for each
// rollout, and watches every Ready change throughout. With the webhook
// (maxUnavailable 0) the api never has fewer Ready pods than replicas, and
// its zone spread survives every rollout: old and new ReplicaSets are counted
// apart (matchLabelKeys: [pod-template-hash]).
func (s *suite) rollout(t *testing.T) {
	ctx := scenarioContext(t, 4*time.Minute)
	s.t = t
	const rounds = 3
	win := s.watch.open(apiGroups())
	t0 := time.Now()
	zones := map[string][]string{}
	worst := map[string]int{}
	for round := 1; round <= rounds; round++ {
		image := fmt.Sprintf("ghcr.io/laminar/laminar:1.4.%d", round)
		for _, w := range apis {
			for _, m := range modes {
				d, err := s.deployment(ctx, w, m)
				require.NoError(t, err)
				d.Spec.Template.Spec.Containers[0].Image = image
				require.NoError(t, s.env.Client.Update(ctx, d), "%s: roll to %s", group(w, m), image)
			}
		}
		require.NoError(t, s.waitAll(ctx, "rollout to "+image, apis, func(w workload, st state) bool {
			return st.full(w) && s.rolledOut(ctx, w, image) || st.Unschedulable > 0 && st.Ready+st.Unschedulable == st.Total
		}))
		for _, w := range apis {
			for _, m := range modes {
				st, err := s.snapshot(ctx, w, m)
				require.NoError(t, err)
				g := group(w, m)
				zones[g] = append(zones[g], s.placement(st))
				worst[g] = max(worst[g], st.zoneSkew(s.zoned()))
				if m == withWebhook && s.multiZone() {
					assert.LessOrEqual(t, st.zoneSkew(true), 1, "%s after rollout %d: spread kept: %v", w.Name, round, st.Zones)
				}
			}
		}
	}
	took := time.Since(t0)
	res := s.watch.close(win)
	for _, w := range apis {
		for _, m := range modes {
			g := group(w, m)
			st, err := s.snapshot(ctx, w, m)
			require.NoError(t, err)
			if !s.zoned() {
				worst[g] = -1
			}
			s.record(scRollout, w, m, figure{MinReady: res[g].Min, ZoneSkew: worst[g], PerHost: st.perHost(),
				Pending: st.Pending, Recover: recoverTime(res[g], t0),
				Note: fmt.Sprintf("%d rollouts in %s; after each: %s", rounds, took.Round(100*time.Millisecond), strings.Join(zones[g], " → "))})
			if m == withWebhook {
				assert.GreaterOrEqual(t, res[g].Min, w.Replicas, "%s: Ready pods during the rollouts with maxUnavailable 0", w.Name)
			}
		}
	}
	s.assertNoNewPending(t, ctx, apis)
}

// rolledOut: the Deployment's controller has rolled every replica to image.
func (s *suite) rolledOut(ctx context.Context, w workload, image string) bool {
	for _, m := range modes {
		d, err := s.deployment(ctx, w, m)
		if err != nil || d.Status.ObservedGeneration < d.Generation ||
			d.Spec.Template.Spec.Containers[0].Image != image {
			return false
		}
		st := d.Status
		if int(st.UpdatedReplicas) != w.Replicas || int(st.Replicas) != w.Replicas || int(st.AvailableReplicas) != w.Replicas {
			return false
		}
	}
	return true
}

// assertNoNewPending: with the webhook no pod is Pending where none is
// without it.
func (s *suite) assertNoNewPending(t *testing.T, ctx context.Context, ws []workload) {
	t.Helper()
	for _, w := range ws {
		with, err := s.snapshot(ctx, w, withWebhook)
		require.NoError(t, err)
		without, err := s.snapshot(ctx, w, withoutWebhook)
		require.NoError(t, err)
		if without.Pending == 0 {
			assert.Zero(t, with.Pending, "%s: Pending with the webhook only: %s", w.Name, with.Why)
		}
	}
}

// drain drains every node in turn with kubectl (evictions, which honour the
// budgets) once the budgets over its pods allow a disruption, uncordons it and
// waits for full strength before the next one. The api never has fewer Ready
// pods than its budget's minAvailable, nor the controller none, in either
// namespace: both have the guide's budgets.
func (s *suite) drain(t *testing.T) {
	// Room for two waits of the budgets (waitBudgetsAllow, budgetTimeout each).
	ctx := scenarioContext(t, 8*time.Minute)
	s.t = t
	lowest := map[string]int{}
	longest := map[string]time.Duration{}
	for g, n := range allGroups() {
		lowest[g] = n
	}
	t0 := time.Now()
	for _, n := range s.env.Cluster.Nodes() {
		s.waitBudgetsAllow(ctx, n.Name)
		win := s.watch.open(allGroups())
		t1 := time.Now()
		_, stderr, err := s.env.Kubectl(ctx, nil, "drain", n.Name, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=90s")
		require.NoError(t, err, "drain %s: %s", n.Name, stderr)
		_, stderr, err = s.env.Kubectl(ctx, nil, "uncordon", n.Name)
		require.NoError(t, err, "uncordon %s: %s", n.Name, stderr)
		s.waitFull(ctx)
		for g, r := range s.watch.close(win) {
			lowest[g] = min(lowest[g], r.Min)
			if r.Dipped && !r.Recovered.IsZero() {
				longest[g] = max(longest[g], r.Recovered.Sub(t1))
			}
		}
	}
	took := time.Since(t0)
	for _, w := range workloads {
		for _, m := range modes {
			g := group(w, m)
			st, err := s.snapshot(ctx, w, m)
			require.NoError(t, err)
			s.record(scDrain, w, m, figure{MinReady: lowest[g], ZoneSkew: st.zoneSkew(s.zoned()), PerHost: st.perHost(),
				Pending: st.Pending, Recover: longest[g],
				Note: fmt.Sprintf("%d drains in %s (time to recover: the longest); after: %s", len(s.env.Cluster.Nodes()),
					took.Round(100*time.Millisecond), s.placement(st))})
			if w.MinAvailable > 0 {
				assert.GreaterOrEqual(t, lowest[g], w.MinAvailable, "%s: Ready pods during the drains, budget minAvailable %d", g, w.MinAvailable)
			}
		}
	}
}

// busiest is the node, or the zone, holding the most Ready Laminar pods of
// both namespaces (the first in node order on a tie): the failure that hurts
// most, whichever mode's pods are there.
func (s *suite) busiest(ctx context.Context, byZone bool) (string, error) {
	counts := map[string]int{}
	for _, w := range workloads {
		for _, m := range modes {
			st, err := s.snapshot(ctx, w, m)
			if err != nil {
				return "", err
			}
			if byZone {
				for z, n := range st.Zones {
					counts[z] += n
				}
				continue
			}
			for h, n := range st.Hosts {
				counts[h] += n
			}
		}
	}
	best, most := "", -1
	for _, n := range s.env.Cluster.Nodes() {
		key := n.Name
		if byZone {
			key = n.Zone
		}
		if counts[key] > most {
			best, most = key, counts[key]
		}
	}
	return best, nil
}

// failure fails nodes, waits until the node lifecycle controller has evicted
// their pods and what can be replaced is Ready, records the figures, asserts
// the HA properties with the webhook, then restores the nodes and waits for
// full strength.
func (s *suite) failure(t *testing.T, sc string, nodes []string, fail func() error, restore func() error) {
	ctx := scenarioContext(t, 5*time.Minute)
	s.t = t
	win := s.watch.open(allGroups())
	t0 := time.Now()
	require.NoError(t, fail())
	restored := false
	t.Cleanup(func() {
		if !restored {
			_ = restore()
		}
	})
	require.NoError(t, s.env.Cluster.WaitNodesFailed(ctx, nodeTimeout, nodes...))
	require.NoError(t, devenv.WaitFor(ctx, nodeTimeout, "the failed nodes' pods evicted", func(ctx context.Context) (bool, string) {
		pods, err := s.podsOn(ctx, nodes)
		if err != nil {
			return false, err.Error()
		}
		var left []string
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				left = append(left, p.Namespace+"/"+p.Name)
			}
		}
		return len(left) == 0, "not evicted: " + strings.Join(left, ", ")
	}))
	settled := func(w workload, st state) bool { return st.settled(w) }
	require.NoError(t, s.waitAll(ctx, "replacements Ready or stuck", workloads, settled))
	res := s.watch.close(win)

	for _, w := range workloads {
		for _, m := range modes {
			g := group(w, m)
			st, err := s.snapshot(ctx, w, m)
			require.NoError(t, err)
			note := fmt.Sprintf("%s failed; after: %s", strings.Join(nodes, ","), s.placement(st))
			if st.Stuck > 0 && w.Kind == "StatefulSet" {
				note += fmt.Sprintf("; %d pod(s) Terminating on the dead node(s): the StatefulSet waits for them", st.Stuck)
			}
			if !res[g].Dipped {
				note += "; no pod on the failed node(s)"
			}
			s.record(sc, w, m, figure{MinReady: res[g].Min, ZoneSkew: st.zoneSkew(s.zoned()), PerHost: st.perHost(),
				Pending: st.Pending, Recover: recoverTime(res[g], t0), Note: note})
			if m != withWebhook {
				continue
			}
			assert.GreaterOrEqual(t, res[g].Min, 1, "%s: never 0 Ready with the webhook", w.Name)
			if w.Kind == "Deployment" {
				assert.Equal(t, w.Replicas, st.Ready, "%s: the replacements schedule on the surviving nodes: %s", w.Name, st.Why)
			}
		}
	}

	require.NoError(t, restore())
	restored = true
	require.NoError(t, s.env.Cluster.WaitNodesReady(ctx, nodeTimeout))
	s.waitFull(ctx)
}

// A node stops heartbeating: its pods are evicted and the api's replaced
// elsewhere; the api never drops to 0 Ready, nor the controller.
func (s *suite) nodeFailure(t *testing.T) {
	ctx := scenarioContext(t, time.Minute)
	node, err := s.busiest(ctx, false)
	require.NoError(t, err)
	s.failure(t, scNodeFailure, []string{node},
		func() error { return s.env.Cluster.FailNode(node) },
		func() error { return s.env.Cluster.RestoreNode(node) })
}

// Every node of one zone fails: the api keeps serving from the other zones
// and its replacements schedule there; the controller, whose pods cannot
// leave their zones (zonal volumes), keeps the replicas of the other zones.
func (s *suite) zoneOutage(t *testing.T) {
	ctx := scenarioContext(t, time.Minute)
	zone, err := s.busiest(ctx, true)
	require.NoError(t, err)
	nodes := s.env.Cluster.NodesInZone(zone)
	require.NotEmpty(t, nodes)
	s.failure(t, scZoneOutage, nodes,
		func() error { _, err := s.env.Cluster.FailZone(zone); return err },
		func() error { return s.env.Cluster.RestoreZone(zone) })
}
