package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionUntil denies an expiry that cannot be read (exempt.ValidateUntil).
func checkExemptionUntil(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	return exempt.ValidateUntil(exempt.Read(w.Meta.Annotations))
}
