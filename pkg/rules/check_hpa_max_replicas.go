package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkHPAMaxReplicas denies an autoscaler whose ceiling sits below its floor or
// below the HA minimum: it could never hold the workload where HA needs it.
func checkHPAMaxReplicas(obj runtime.Object, target *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	hpa, ok := asHPA(obj)
	if !ok {
		return nil
	}
	floor := max(hpaMin(hpa), replicasFor(target.Role, p).Min)
	if hpa.Spec.MaxReplicas < floor {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "maxReplicas"), hpa.Spec.MaxReplicas,
			fmt.Sprintf("is below the floor of %d replicas for Laminar %s; fix: set maxReplicas to %d or more", floor, target.Role, floor))}
	}
	return nil
}
