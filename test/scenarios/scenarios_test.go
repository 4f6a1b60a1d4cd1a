package scenarios

import (
	"context"
	"fmt"
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
	note := ""
	if s.zoned() {
		note = "zones " + st.zoneLetters()
	} else {
		note = fmt.Sprintf("%d nodes", len(st.Hosts))
	}
	if st.Why != "" {
		note += "; Pending: " + st.Why
	}
	return note
}
