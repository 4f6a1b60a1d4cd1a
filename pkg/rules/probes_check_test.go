package rules

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// testRequireProbe runs the cases the probe checks share.
func testRequireProbe(t *testing.T, id, jsonName string, slot probeSlot, policyProbe func(*policy.Policy) *policy.Probe, wantFix string) {
	t.Helper()
	drop := func(c *corev1.Container) { *slot(c) = nil }
	tests := []struct {
		name   string
		mods   []func(*corev1.PodSpec)
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "the guide's probe"},
		{name: "missing", mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) { drop(&s.Containers[0]) }},
			want: []wantErr{required("spec.template.spec.containers[0]."+jsonName, wantFix)}},
		{name: "missing, fix names the policy's probe",
			mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) { drop(&s.Containers[0]) }},
			policy: pol(func(p *policy.Policy) {
				*policyProbe(p) = policy.Probe{Path: "/z", Port: 9090, PeriodSeconds: 1, FailureThreshold: 1}
			}),
			want: []wantErr{required("spec.template.spec.containers[0]."+jsonName, "httpGet /z on port 9090")}},
		{name: "a probe of any kind counts", mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) {
			*slot(&s.Containers[0]) = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8000)}}}
		}}},
		{name: "a sidecar without probes does not matter", mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) {
			s.Containers = append([]corev1.Container{sidecar("envoy")}, s.Containers...)
		}}},
		{name: "the main container is judged, not the first", mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) {
			drop(&s.Containers[0])
			s.Containers = append([]corev1.Container{sidecar("envoy")}, s.Containers...)
		}}, want: []wantErr{required("spec.template.spec.containers[1]." + jsonName)}},
		{name: "the policy's container is judged",
			mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) {
				s.Containers = append(s.Containers, corev1.Container{Name: "server"})
			}},
			policy: pol(func(p *policy.Policy) { p.API.ContainerName = "server" }),
			want:   []wantErr{required("spec.template.spec.containers[1]." + jsonName)}},
		{name: "no containers", mods: []func(*corev1.PodSpec){func(s *corev1.PodSpec) { s.Containers = nil }}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := apiDeployment()
			for _, m := range tc.mods {
				apiPod(m)(d)
			}
			assertErrs(t, id, runCheck(t, id, d, p), tc.want...)
		})
	}
	t.Run("an api StatefulSet is judged too", func(t *testing.T) {
		s := apiStatefulSet(func(s *appsv1.StatefulSet) { drop(&s.Spec.Template.Spec.Containers[0]) })
		assertErrs(t, id, runCheck(t, id, s, pol()), required("spec.template.spec.containers[0]."+jsonName))
	})
}
