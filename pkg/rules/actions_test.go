package rules_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

func parse(t *testing.T, doc string) (*policy.Policy, error) {
	t.Helper()
	return policy.Parse([]byte("apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\n" + doc))
}

// The policy file is checked against the real catalog: every rule can be set,
// and a typo or an action the rule cannot take stops the policy from loading.
func TestPolicyRuleActionsAreCheckedAgainstTheCatalog(t *testing.T) {
	for _, r := range rules.All() {
		d := r.Describe()
		for _, a := range []string{policy.RuleOff, string(d.Action)} {
			p, err := parse(t, "rules:\n  "+d.ID+": "+a+"\n")
			require.NoError(t, err, "%s: %s", d.ID, a)
			assert.Equal(t, rules.Action(a), rules.InForce(r, p))
		}
	}
	_, err := parse(t, "rules:\n  replica-min: warn\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `rules[replica-min]: Invalid value: "replica-min": no rule has this ID`)

	_, err = parse(t, "rules:\n  set-api-prestop: warn\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `rules[set-api-prestop]: Unsupported value: "warn": supported values: "default", "off"`)

	_, err = parse(t, "rules:\n  replicas-min: default\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `supported values: "deny", "warn", "audit", "off"`)

	_, err = parse(t, "rules:\n  pdb-missing: deny\n")
	require.NoError(t, err, "a warning can be made a denial")
}

func TestWithoutAPolicyEntryARuleKeepsItsCatalogAction(t *testing.T) {
	p, err := parse(t, "rules:\n  replicas-min: audit\n")
	require.NoError(t, err)
	for _, r := range rules.All() {
		d := r.Describe()
		want := d.Action
		if d.ID == "replicas-min" {
			want = rules.ActionAudit
		}
		assert.Equal(t, want, rules.InForce(r, p), d.ID)
		assert.Equal(t, d.Action, rules.InForce(r, nil), d.ID)
		assert.Equal(t, d.Action, rules.InForce(r, policy.Default()), d.ID)
	}
}
