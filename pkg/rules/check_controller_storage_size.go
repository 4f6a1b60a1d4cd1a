package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerStorageSize denies a RocksDB volume smaller than the policy's
// minimum: compaction needs headroom, and a full volume stops the controller.
func checkControllerStorageSize(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	claims, idx := rocksDBClaims(w, p)
	min := p.Controller.Storage.MinSize
	var errs field.ErrorList
	for n, claim := range claims {
		path := claimPath(idx[n]).Child("spec", "resources", "requests", "storage")
		q, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]
		switch {
		case !ok:
			errs = append(errs, field.Required(path, "RocksDB's claim requests no storage size; fix: request at least "+min.String()))
		case q.Cmp(min) < 0:
			errs = append(errs, field.Invalid(path, q.String(), "RocksDB needs at least "+min.String()+"; fix: request "+min.String()+" or more"))
		}
	}
	return errs
}
