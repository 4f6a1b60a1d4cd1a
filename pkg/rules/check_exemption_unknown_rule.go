package rules

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// knownIDs is filled from the registry in init, because a check that read the
// registry directly would make the registry's initialisation depend on itself.
var knownIDs = map[string]bool{}

func init() {
	for _, r := range registry {
		knownIDs[r.ID] = true
	}
}

// checkExemptionUnknownRule warns about exempted IDs that name no rule (a typo
// would otherwise look like a working exemption) or a rule that cannot be exempted.
func checkExemptionUnknownRule(w *workload.Workload, _ *policy.Policy) field.ErrorList {
	e := exempt.Read(w.Meta.Annotations)
	var bad []string
	for _, id := range e.Rules {
		if !knownIDs[id] || strings.HasPrefix(id, "exemption-") {
			bad = append(bad, id)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(exempt.Path(exempt.AnnotationRules), strings.Join(bad, ","),
		"names no exemptible rule; see docs/rules.md")}
}
