package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkHPAMinReplicas denies an autoscaler that may scale a Laminar workload below
// its HA minimum. (The scale subresource check would refuse such a scale-down
// anyway; denying the autoscaler says so where it is configured.)
func checkHPAMinReplicas(obj runtime.Object, target *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	hpa, ok := asHPA(obj)
	if !ok {
		return nil
	}
	min := replicasFor(target.Role, p).Min
	if n := hpaMin(hpa); n < min {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "minReplicas"), n,
			fmt.Sprintf("lets %s %s/%s (Laminar %s) scale below %d replicas; fix: set minReplicas to %d or more",
				target.Kind, target.Meta.Namespace, target.Meta.Name, target.Role, min, min))}
	}
	return nil
}
