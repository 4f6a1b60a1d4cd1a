package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckAPIAntiAffinity(t *testing.T) {
	const id = "api-anti-affinity"
	const path = "spec.template.spec.affinity.podAntiAffinity"
	const hostname, zone = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
	preferred := func(key string, sel *metav1.LabelSelector) *corev1.PodAntiAffinity {
		return &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 1, PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: sel, TopologyKey: key},
		}}}
	}
	requiredAA := func(key string, sel *metav1.LabelSelector) *corev1.PodAntiAffinity {
		return &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: key}}}
	}
	inExpr := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"laminar-api", "laminar-web"},
	}}}
	tests := []struct {
		name   string
		aa     *corev1.PodAntiAffinity
		labels map[string]string
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "preferred hostname term selecting the api", aa: preferred(hostname, labelSelector(apiLabels))},
		{name: "required hostname term selecting the api", aa: requiredAA(hostname, labelSelector(apiLabels))},
		{name: "selector by expression", aa: preferred(hostname, inExpr)},
		{name: "recommended labels", labels: apiRecommendedLabels, aa: preferred(hostname, labelSelector(apiRecommendedLabels))},
		{name: "no anti-affinity", aa: nil,
			want: []wantErr{required(path, "no anti-affinity term on kubernetes.io/hostname", "labelSelector app=laminar-api")}},
		{name: "term on the zone key only", aa: preferred(zone, labelSelector(apiLabels)),
			want: []wantErr{required(path, "kubernetes.io/hostname")}},
		{name: "hostname term selecting other pods", aa: preferred(hostname, labelSelector(controllerLabels)),
			want: []wantErr{required(path)}},
		{name: "hostname term with an empty selector", aa: preferred(hostname, &metav1.LabelSelector{}),
			want: []wantErr{required(path)}},
		{name: "hostname term with no selector", aa: requiredAA(hostname, nil),
			want: []wantErr{required(path)}},
		{name: "hostname term with an invalid selector", aa: preferred(hostname, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "app", Operator: "Like", Values: []string{"laminar-api"},
		}}}), want: []wantErr{required(path)}},
		{name: "fix names the recommended labels", labels: apiRecommendedLabels, aa: nil,
			want: []wantErr{required(path, "labelSelector app.kubernetes.io/name=laminar,app.kubernetes.io/component=api")}},
		{name: "policy topology key", aa: preferred(hostname, labelSelector(apiLabels)),
			policy: pol(func(p *policy.Policy) { p.API.AntiAffinity.TopologyKey = "example.com/rack" }),
			want:   []wantErr{required(path, "example.com/rack")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := apiDeployment(apiPod(func(s *corev1.PodSpec) {
				s.Affinity = nil
				if tc.aa != nil {
					s.Affinity = &corev1.Affinity{PodAntiAffinity: tc.aa}
				}
			}))
			if tc.labels != nil {
				apiPodLabels(tc.labels)(d)
			}
			assertErrs(t, id, runCheck(t, id, d, p), tc.want...)
		})
	}
	t.Run("an affinity without pod anti-affinity", func(t *testing.T) {
		d := apiDeployment(apiPod(func(s *corev1.PodSpec) { s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}} }))
		assertErrs(t, id, runCheck(t, id, d, pol()), required(path))
	})
}
