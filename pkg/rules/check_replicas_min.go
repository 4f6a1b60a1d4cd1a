package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// replicasFor returns the role's replica policy.
func replicasFor(r workload.Role, p *policy.Policy) policy.Replicas {
	if r == workload.RoleController {
		return p.Controller.Replicas
	}
	return p.API.Replicas
}

// checkReplicasMin denies a workload that one pod failure takes down entirely.
func checkReplicasMin(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	min := replicasFor(w.Role, p).Min
	if n := w.Replicas(); n < min {
		return field.ErrorList{field.Invalid(workload.SpecPath.Child("replicas"), n,
			fmt.Sprintf("a Laminar %s needs at least %d replicas to survive losing a pod; fix: set spec.replicas to %d or more", w.Role, min, min))}
	}
	return nil
}
