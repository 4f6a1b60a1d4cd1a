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
	if !ok || s.FromRef {
		return nil
	}
	schemes := p.Controller.Checkpoints.Schemes
	fix := "; fix: use a bucket URL such as s3://my-bucket/laminar/checkpoints (schemes: " + strings.Join(schemes, ", ") + ")"
	u, err := url.Parse(s.Value)
	switch {
	case s.Value == "":
		return field.ErrorList{field.Invalid(s.Path, s.Value, "is empty, so nothing is checkpointed"+fix)}
	case err != nil || u.Scheme == "":
		return field.ErrorList{field.Invalid(s.Path, s.Value, "is a local path, not durable object storage"+fix)}
	case !slices.ContainsFunc(schemes, func(sc string) bool { return strings.EqualFold(sc, u.Scheme) }):
		return field.ErrorList{field.Invalid(s.Path, s.Value, "scheme "+u.Scheme+" is not durable object storage"+fix)}
	case u.Host == "":
		return field.ErrorList{field.Invalid(s.Path, s.Value, "names no bucket"+fix)}
	}
	return nil
}
