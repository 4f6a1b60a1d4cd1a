package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckAPIZoneSpread(t *testing.T) {
	const id = "api-zone-spread"
	const path = "spec.template.spec.topologySpreadConstraints"
	const zone = "topology.kubernetes.io/zone"
	spread := func(key string, sel *metav1.LabelSelector, when corev1.UnsatisfiableConstraintAction) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: when, LabelSelector: sel}
	}
	tests := []struct {
		name   string
		tsc    []corev1.TopologySpreadConstraint
		labels map[string]string
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "the guide's constraint", tsc: []corev1.TopologySpreadConstraint{spread(zone, labelSelector(apiLabels), corev1.DoNotSchedule)}},
		{name: "ScheduleAnyway also counts", tsc: []corev1.TopologySpreadConstraint{spread(zone, labelSelector(apiLabels), corev1.ScheduleAnyway)}},
		{name: "one of several constraints", tsc: []corev1.TopologySpreadConstraint{
			spread("kubernetes.io/hostname", labelSelector(apiLabels), corev1.ScheduleAnyway),
			spread(zone, labelSelector(apiLabels), corev1.DoNotSchedule),
		}},
		{name: "recommended labels", labels: apiRecommendedLabels,
			tsc: []corev1.TopologySpreadConstraint{spread(zone, labelSelector(apiRecommendedLabels), corev1.DoNotSchedule)}},
		{name: "none",
			want: []wantErr{required(path, "no constraint on topology.kubernetes.io/zone", "maxSkew 1, whenUnsatisfiable DoNotSchedule, labelSelector app=laminar-api")}},
		{name: "only a hostname constraint", tsc: []corev1.TopologySpreadConstraint{spread("kubernetes.io/hostname", labelSelector(apiLabels), corev1.DoNotSchedule)},
			want: []wantErr{required(path)}},
		{name: "zone constraint selecting other pods", tsc: []corev1.TopologySpreadConstraint{spread(zone, labelSelector(controllerLabels), corev1.DoNotSchedule)},
			want: []wantErr{required(path)}},
		{name: "zone constraint without a selector", tsc: []corev1.TopologySpreadConstraint{spread(zone, nil, corev1.DoNotSchedule)},
			want: []wantErr{required(path)}},
		{name: "policy key and figures in the fix", tsc: []corev1.TopologySpreadConstraint{spread(zone, labelSelector(apiLabels), corev1.DoNotSchedule)},
			policy: pol(func(p *policy.Policy) {
				p.API.ZoneSpread = policy.ZoneSpread{TopologyKey: "example.com/region", MaxSkew: 2, WhenUnsatisfiable: "ScheduleAnyway"}
			}),
			want: []wantErr{required(path, "example.com/region", "maxSkew 2, whenUnsatisfiable ScheduleAnyway")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := apiDeployment(apiPod(func(s *corev1.PodSpec) { s.TopologySpreadConstraints = tc.tsc }))
			if tc.labels != nil {
				apiPodLabels(tc.labels)(d)
			}
			assertErrs(t, id, runCheck(t, id, d, p), tc.want...)
		})
	}
}
