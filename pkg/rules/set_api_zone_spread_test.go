package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIZoneSpread(t *testing.T) {
	const id = "set-api-zone-spread"
	guide := func(sel map[string]string) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: labelSelector(sel),
		}
	}
	honor := corev1.NodeInclusionPolicyHonor
	// injected is the guide's constraint as the default writes it.
	injected := func(sel map[string]string) corev1.TopologySpreadConstraint {
		c := guide(sel)
		c.NodeTaintsPolicy, c.MatchLabelKeys = &honor, []string{"pod-template-hash"}
		return c
	}
	hostname := corev1.TopologySpreadConstraint{
		MaxSkew: 2, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: labelSelector(apiLabels),
	}
	userZone := corev1.TopologySpreadConstraint{
		MaxSkew: 3, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: labelSelector(apiLabels),
	}

	tests := []struct {
		name    string
		in      []corev1.TopologySpreadConstraint
		labels  map[string]string
		policy  *policy.Policy
		changed bool
		want    []corev1.TopologySpreadConstraint
	}{
		{name: "compliant constraint is kept", in: []corev1.TopologySpreadConstraint{guide(apiLabels)}, want: []corev1.TopologySpreadConstraint{guide(apiLabels)}},
		{name: "none gets the guide's", changed: true, want: []corev1.TopologySpreadConstraint{injected(apiLabels)}},
		{name: "recommended labels are selected", labels: apiRecommendedLabels, changed: true, want: []corev1.TopologySpreadConstraint{injected(apiRecommendedLabels)}},
		{name: "the user's zone constraint is kept as it is", in: []corev1.TopologySpreadConstraint{userZone}, want: []corev1.TopologySpreadConstraint{userZone}},
		{name: "a constraint on another key is kept and the zone one added",
			in: []corev1.TopologySpreadConstraint{hostname}, changed: true, want: []corev1.TopologySpreadConstraint{hostname, injected(apiLabels)}},
		{name: "policy figures are used",
			policy: pol(func(p *policy.Policy) {
				p.API.ZoneSpread = policy.ZoneSpread{TopologyKey: "example.com/region", MaxSkew: 2, WhenUnsatisfiable: "ScheduleAnyway"}
			}),
			changed: true,
			want: []corev1.TopologySpreadConstraint{{
				MaxSkew: 2, TopologyKey: "example.com/region", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: labelSelector(apiLabels),
				NodeTaintsPolicy: &honor, MatchLabelKeys: []string{"pod-template-hash"},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) { s.TopologySpreadConstraints = tc.in }))
			if tc.labels != nil {
				apiPodLabels(tc.labels)(d)
			}
			assert.Equal(t, tc.changed, runDefault(t, id, d, p))
			assert.Equal(t, tc.want, d.Spec.Template.Spec.TopologySpreadConstraints)
			assertDefaultIdempotent(t, id, d, p)
		})
	}

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, apiDeployment(), pol())
	})
	t.Run("a StatefulSet has no pod-template-hash to match", func(t *testing.T) {
		sts := apiStatefulSet(func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.TopologySpreadConstraints = nil })
		assert.True(t, runDefault(t, id, sts, pol()))
		assert.Nil(t, sts.Spec.Template.Spec.TopologySpreadConstraints[0].MatchLabelKeys)
	})
}

// TestZoneSpreadsFollowTheNodes: a zone spread MUST NOT be injected where the
// schedulable nodes cannot satisfy it — the scheduler filters out every node
// without the key, so the pods would stay Pending — and is where they can.
func TestZoneSpreadsFollowTheNodes(t *testing.T) {
	zone := func(z string) map[string]string {
		return map[string]string{"kubernetes.io/hostname": "n-" + z, "topology.kubernetes.io/zone": z}
	}
	unzoned := map[string]string{"kubernetes.io/hostname": "metal"}
	for _, tc := range []struct {
		name  string
		nodes Nodes
		want  bool
	}{
		{name: "nothing known: the guide's cluster is assumed", nodes: Nodes{}, want: true},
		{name: "three zones", nodes: Nodes{Known: true, Labels: []map[string]string{zone("a"), zone("b"), zone("c")}}, want: true},
		{name: "two zones", nodes: Nodes{Known: true, Labels: []map[string]string{zone("a"), zone("b")}}, want: true},
		{name: "one zone", nodes: Nodes{Known: true, Labels: []map[string]string{zone("a"), zone("a")}}},
		{name: "no zone labels", nodes: Nodes{Known: true, Labels: []map[string]string{unzoned, unzoned, unzoned}}},
		{name: "some nodes without the label", nodes: Nodes{Known: true, Labels: []map[string]string{zone("a"), zone("b"), unzoned}}},
		{name: "no schedulable node", nodes: Nodes{Known: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Situation{Now: testNow, Nodes: tc.nodes}
			api := minimalAPIDeployment()
			assert.Equal(t, tc.want, runDefaultIn(t, "set-api-zone-spread", api, pol(), s), "api")
			ctl := minimalControllerStatefulSet()
			assert.Equal(t, tc.want, runDefaultIn(t, "set-controller-zone-spread", ctl, pol(), s), "controller")
			// What is not injected is not required either, and is warned about.
			assert.Empty(t, runCheckIn(t, "api-zone-spread", api, pol(), s), "api-zone-spread")
			for _, obj := range []runtime.Object{api, ctl} {
				warned := runCheckIn(t, "cluster-zones", obj, pol(), s)
				if tc.want {
					assert.Empty(t, warned)
				} else {
					assertErrs(t, "cluster-zones", warned, invalid("spec.template.spec.topologySpreadConstraints",
						"topology.kubernetes.io/zone", "no zone spread"))
				}
			}
		})
	}
}
