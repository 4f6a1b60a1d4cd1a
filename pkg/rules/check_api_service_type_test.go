package rules

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestCheckAPIServiceType: an api Service that opens a way in beside the
// Ingress MUST be warned of; ClusterIP and headless Services pass.
func TestCheckAPIServiceType(t *testing.T) {
	const id = "api-service-type"
	api := wl(t, apiIn())
	typed := func(typ corev1.ServiceType) runtime.Object {
		return apiService(func(s *corev1.Service) { s.Spec.Type = typ })
	}
	tests := []struct {
		name string
		obj  runtime.Object
		want []wantErr
	}{
		{name: "the guide's ClusterIP", obj: apiService()},
		{name: "headless", obj: apiService(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone })},
		{name: "NodePort", obj: typed(corev1.ServiceTypeNodePort),
			want: []wantErr{invalid("spec.type", "NodePort", "beside its Ingress", "type: ClusterIP")}},
		{name: "LoadBalancer", obj: typed(corev1.ServiceTypeLoadBalancer),
			want: []wantErr{invalid("spec.type", "LoadBalancer")}},
		{name: "not a Service", obj: apiIngress("alb")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, id, relatedRule(t, id).Judge(tc.obj, api, pol(), Situation{}), tc.want...)
		})
	}
}
