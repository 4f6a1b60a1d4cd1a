package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestCheckAPIServiceSessionAffinity: a Service that pins clients to one api
// pod MUST be denied; the guide's None, and what the API server fills in for
// an unset field, pass.
func TestCheckAPIServiceSessionAffinity(t *testing.T) {
	const id = "api-service-session-affinity"
	api := wl(t, apiIn())
	tests := []struct {
		name string
		obj  runtime.Object
		want []wantErr
	}{
		{name: "the guide's None", obj: apiService()},
		{name: "unset (as no API server leaves it)", obj: apiService(func(s *corev1.Service) { s.Spec.SessionAffinity = "" })},
		{name: "ClientIP", obj: apiService(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }),
			want: []wantErr{invalid("spec.sessionAffinity", "ClientIP", "one pod of Deployment laminar-api", "sessionAffinity: None")}},
		{name: "ClientIP on a NodePort Service too", obj: apiService(func(s *corev1.Service) {
			s.Spec.SessionAffinity, s.Spec.Type = corev1.ServiceAffinityClientIP, corev1.ServiceTypeNodePort
		}), want: []wantErr{invalid("spec.sessionAffinity", "ClientIP")}},
		{name: "not a Service", obj: ptrTo(pdb("laminar", "laminar-api", intVal(1), nil))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, id, relatedRule(t, id).Judge(tc.obj, api, pol(), Situation{}), tc.want...)
		})
	}
}
