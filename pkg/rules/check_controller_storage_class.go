package rules

import (
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerStorageClass denies RocksDB on a storage class that is not known to
// be fast SSD. Leaving the class out means "whatever the cluster default is", which
// is often a slow disk, so it is denied too.
func checkControllerStorageClass(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	claims, idx := rocksDBClaims(w, p)
	var errs field.ErrorList
	for n, claim := range claims {
		path := claimPath(idx[n]).Child("spec", "storageClassName")
		sc := claim.Spec.StorageClassName
		switch {
		case sc == nil || *sc == "":
			errs = append(errs, field.Required(path, "RocksDB needs a fast SSD class, not the cluster default; fix: set one of "+quoteList(fastClassesText(p))))
		case !slices.Contains(p.Controller.Storage.FastStorageClasses, *sc):
			errs = append(errs, field.Invalid(path, *sc, "is not a known fast SSD class for RocksDB; fix: use one of "+quoteList(fastClassesText(p))))
		}
	}
	return errs
}

func quoteList(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += `"` + v + `"`
	}
	return out
}
