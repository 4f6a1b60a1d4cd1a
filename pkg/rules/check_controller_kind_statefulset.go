package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerKindStatefulSet denies a controller Deployment: RocksDB needs a
// volume that stays with its pod, which only a StatefulSet's claim templates give.
func checkControllerKindStatefulSet(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	if w.Kind == workload.KindStatefulSet {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("kind"), w.Kind,
		"the Laminar controller keeps RocksDB on a per-pod persistent volume; fix: run it as a StatefulSet with a volumeClaimTemplate")}
}
