package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIZoneSpread(t *testing.T) {
	const id = "set-api-zone-spread"
	guide := func(sel map[string]string) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: labelSelector(sel),
		}
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
		{name: "none gets the guide's", changed: true, want: []corev1.TopologySpreadConstraint{guide(apiLabels)}},
		{name: "recommended labels are selected", labels: apiRecommendedLabels, changed: true, want: []corev1.TopologySpreadConstraint{guide(apiRecommendedLabels)}},
		{name: "the user's zone constraint is kept as it is", in: []corev1.TopologySpreadConstraint{userZone}, want: []corev1.TopologySpreadConstraint{userZone}},
		{name: "a constraint on another key is kept and the zone one added",
			in: []corev1.TopologySpreadConstraint{hostname}, changed: true, want: []corev1.TopologySpreadConstraint{hostname, guide(apiLabels)}},
		{name: "policy figures are used",
			policy: pol(func(p *policy.Policy) {
				p.API.ZoneSpread = policy.ZoneSpread{TopologyKey: "example.com/region", MaxSkew: 2, WhenUnsatisfiable: "ScheduleAnyway"}
			}),
			changed: true,
			want: []corev1.TopologySpreadConstraint{{
				MaxSkew: 2, TopologyKey: "example.com/region", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: labelSelector(apiLabels),
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
}
