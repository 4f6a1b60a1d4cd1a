package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkHPAStaticReplicas warns when an update resets the replica count of a
// workload an autoscaler manages: each apply of a manifest with a fixed
// spec.replicas undoes the autoscaler's decision. An update that leaves the count
// alone (a manifest without replicas) is quiet.
func checkHPAStaticReplicas(w *workload.Workload, _ *policy.Policy, s Situation) field.ErrorList {
	if s.View == nil || s.Old == nil || s.Old.Replicas() == w.Replicas() {
		return nil
	}
	if len(s.View.AutoscalersTargeting(s.Ctx, w.Meta.Namespace, w.Kind, w.Meta.Name)) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(workload.SpecPath.Child("replicas"), w.Replicas(),
		"an autoscaler scales this workload; fix: drop spec.replicas from the manifest")}
}
