package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIServiceType warns of an api Service of type NodePort or
// LoadBalancer. Either still spreads requests over every ready pod, so it
// only warns; but the guide keeps the api's Service internal (ClusterIP) and
// brings outside traffic in through the Ingress, whose health checks take a
// failing pod out. A second way in skips them, and opens a port on every node
// or a load balancer of its own. ClusterIP is what the API server fills in
// before admission, so there is nothing for a default to add.
func checkAPIServiceType(obj runtime.Object, _ *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	svc, ok := asService(obj)
	if !ok {
		return nil
	}
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	default:
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "type"), string(svc.Spec.Type),
		"exposes the api beside its Ingress; fix: set type: ClusterIP and route through the Ingress")}
}
