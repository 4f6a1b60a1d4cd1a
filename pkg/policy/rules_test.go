package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withCatalog registers c for the test and restores the one before.
func withCatalog(t *testing.T, c RuleCatalog) {
	catalogMu.Lock()
	before := ruleCatalog
	ruleCatalog = c
	catalogMu.Unlock()
	t.Cleanup(func() { RegisterRuleCatalog(before) })
}

func TestRuleActionsMustNameARuleAndAnActionItTakes(t *testing.T) {
	withCatalog(t, func(id string) ([]string, bool) {
		switch id {
		case "replicas-min":
			return []string{RuleDeny, RuleWarn, RuleAudit, RuleOff}, true
		case "set-api-prestop":
			return []string{RuleDefault, RuleOff}, true
		}
		return nil, false
	})
	for _, tc := range []struct {
		name  string
		rules map[string]RuleAction
		want  []string // "type field" of each error, in order
	}{
		{"none", nil, nil},
		{"a check softened", map[string]RuleAction{"replicas-min": RuleAudit}, nil},
		{"a default off", map[string]RuleAction{"set-api-prestop": RuleOff}, nil},
		{"a typo in an ID", map[string]RuleAction{"replica-min": RuleWarn}, []string{"FieldValueInvalid rules[replica-min]"}},
		{"a check given a default's action", map[string]RuleAction{"replicas-min": RuleDefault}, []string{"FieldValueNotSupported rules[replicas-min]"}},
		{"a default given a check's action", map[string]RuleAction{"set-api-prestop": RuleWarn}, []string{"FieldValueNotSupported rules[set-api-prestop]"}},
		{"an empty action", map[string]RuleAction{"replicas-min": ""}, []string{"FieldValueNotSupported rules[replicas-min]"}},
		{"every error, in ID order", map[string]RuleAction{"zz": RuleOff, "replicas-min": "block"},
			[]string{"FieldValueNotSupported rules[replicas-min]", "FieldValueInvalid rules[zz]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range ValidateRules(tc.rules, field.NewPath("rules")) {
				got = append(got, string(e.Type)+" "+e.Field)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRuleActionsWithoutACatalogAreRefused(t *testing.T) {
	withCatalog(t, nil)
	errs := ValidateRules(map[string]RuleAction{"replicas-min": RuleWarn}, field.NewPath("rules"))
	require.Len(t, errs, 1)
	assert.Equal(t, field.ErrorTypeInternal, errs[0].Type)
	assert.Empty(t, ValidateRules(nil, field.NewPath("rules")), "no rules map needs no catalog")
}
