package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerAntiAffinity(t *testing.T) {
	const id = "controller-anti-affinity"
	const path = "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
	const hostname, zone = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
	term := func(key string, sel map[string]string) corev1.PodAffinityTerm {
		return corev1.PodAffinityTerm{LabelSelector: labelSelector(sel), TopologyKey: key}
	}
	tests := []struct {
		name   string
		aa     *corev1.PodAntiAffinity
		labels map[string]string
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "required hostname term selecting the controller",
			aa: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(hostname, controllerLabels)}}},
		{name: "recommended labels", labels: controllerRecommendedLabels,
			aa: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(hostname, controllerRecommendedLabels)}}},
		{name: "one of several required terms",
			aa: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				term(zone, controllerLabels), term(hostname, controllerLabels),
			}}},
		{name: "none", want: []wantErr{required(path, "no required term on kubernetes.io/hostname", "labelSelector app=laminar-controller")}},
		{name: "a preferred hostname term is not enough",
			aa: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100, PodAffinityTerm: term(hostname, controllerLabels),
			}}},
			want: []wantErr{required(path)}},
		{name: "a required term on the zone key only",
			aa:   &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(zone, controllerLabels)}},
			want: []wantErr{required(path)}},
		{name: "a required hostname term selecting the api",
			aa:   &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(hostname, apiLabels)}},
			want: []wantErr{required(path)}},
		{name: "fix names the recommended labels", labels: controllerRecommendedLabels,
			want: []wantErr{required(path, "app.kubernetes.io/name=laminar,app.kubernetes.io/component=controller")}},
		{name: "policy topology key",
			aa:     &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(hostname, controllerLabels)}},
			policy: pol(func(p *policy.Policy) { p.Controller.AntiAffinity.TopologyKey = zone }),
			want:   []wantErr{required(path, zone)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
				s.Affinity = nil
				if tc.aa != nil {
					s.Affinity = &corev1.Affinity{PodAntiAffinity: tc.aa}
				}
			}))
			if tc.labels != nil {
				ctlPodLabels(tc.labels)(s)
			}
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
		})
	}
}
