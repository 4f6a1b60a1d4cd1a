package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionMaxDuration denies an exemption granted for longer than the
// policy allows (exempt.ValidateMaxDuration), judged when it is added or
// changed: one granted within the limit is not refused later as time passes.
func checkExemptionMaxDuration(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	if !exempt.Granting(w.Meta.Annotations, oldAnnotations(s)) {
		return nil
	}
	return exempt.ValidateMaxDuration(exempt.Read(w.Meta.Annotations), p.Exemptions.MaxDuration.Duration, s.Now)
}
