package rules

import (
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerCheckpointURL denies checkpoints written anywhere but durable
// object storage: a local path or file URL dies with the volume it protects.
func checkControllerCheckpointURL(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	s, ok := checkpointURL(w, p)
	if !ok {
		return nil
	}
	return validateObjectStorageURL(s, p.Controller.Checkpoints.Schemes, "s3://my-bucket/laminar/checkpoints", "nothing is checkpointed")
}

// validateObjectStorageURL judges a setting that must name a bucket in durable
// object storage (one of schemes); example shows the form in the fix, empty
// says what an empty value loses. A value read from a Secret or ConfigMap is
// not seen here and not judged.
func validateObjectStorageURL(s setting, schemes []string, example, empty string) field.ErrorList {
	if s.FromRef {
		return nil
	}
	fix := "; fix: use a bucket URL such as " + example + " (schemes: " + strings.Join(schemes, ", ") + ")"
	u, err := url.Parse(s.Value)
	switch {
	case s.Value == "":
		return field.ErrorList{field.Invalid(s.Path, s.Value, "is empty, so "+empty+fix)}
	case err != nil || u.Scheme == "":
		return field.ErrorList{field.Invalid(s.Path, s.Value, "is a local path, not durable object storage"+fix)}
	case !slices.ContainsFunc(schemes, func(sc string) bool { return strings.EqualFold(sc, u.Scheme) }):
		return field.ErrorList{field.Invalid(s.Path, s.Value, "scheme "+u.Scheme+" is not durable object storage"+fix)}
	case u.Host == "":
		return field.ErrorList{field.Invalid(s.Path, s.Value, "names no bucket"+fix)}
	}
	return nil
}
