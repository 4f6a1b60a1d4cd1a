package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// knownIDs is filled from the tables in init, because a check that read them
// directly would make their initialisation depend on itself.
var knownIDs = map[string]bool{}

func init() {
	for _, r := range All() {
		knownIDs[r.Describe().ID] = true
	}
}

// checkExemptionUnknownRule warns about exempted IDs that name no exemptible rule
// (exempt.ValidateRuleNames).
func checkExemptionUnknownRule(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	return exempt.ValidateRuleNames(exempt.Read(w.Meta.Annotations), func(id string) bool { return knownIDs[id] })
}
