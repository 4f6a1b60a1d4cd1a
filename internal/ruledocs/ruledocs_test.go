package ruledocs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/internal/ruledocs"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// TestRulesDocIsFresh fails when docs/rules.md no longer matches the catalog.
func TestRulesDocIsFresh(t *testing.T) {
	committed, err := os.ReadFile("../../docs/rules.md")
	require.NoError(t, err, "docs/rules.md is missing: run make docs")
	assert.Equal(t, string(ruledocs.Markdown(nil)), string(committed), "docs/rules.md is stale: run make docs")
}

// TestEveryRuleIsDocumented reads the committed page as a reader would, row by
// row, and holds each rule's row to the catalog entry: a rule the generator
// dropped, or a column it rendered from the wrong field, fails here even when the
// page is fresh.
func TestEveryRuleIsDocumented(t *testing.T) {
	committed, err := os.ReadFile("../../docs/rules.md")
	require.NoError(t, err)
	rows := map[string][]string{}
	for _, line := range strings.Split(string(committed), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		require.Len(t, cells, 6, "row %q", line)
		id := strings.Trim(strings.TrimSpace(cells[0]), "`")
		_, dup := rows[id]
		require.False(t, dup, "rule %s has two rows", id)
		rows[id] = cells
	}
	all := rules.All()
	assert.Len(t, rows, len(all), "one row per rule")
	for _, entry := range all {
		r := entry.Describe()
		cells, ok := rows[r.ID]
		if !assert.True(t, ok, "rule %s has no row in docs/rules.md", r.ID) {
			continue
		}
		var roles []string
		for _, role := range r.Roles {
			roles = append(roles, string(role))
		}
		kinds := "any"
		if len(r.Kinds) > 0 {
			kinds = strings.Join(r.Kinds, ", ")
		}
		assert.Equal(t, strings.Join(roles, ", "), cells[1], "%s: roles", r.ID)
		assert.Equal(t, kinds, cells[2], "%s: kinds", r.ID)
		assert.Equal(t, string(r.Action), cells[3], "%s: action", r.ID)
		assert.Equal(t, r.Section, cells[4], "%s: section", r.ID)
		assert.Equal(t, r.Summary, strings.ReplaceAll(strings.TrimSpace(cells[5]), `\|`, "|"), "%s: summary", r.ID)
	}
}

// TestGuideItemsNameRealRules: every rule the guide table names MUST exist, every
// item MUST either name rules or say why it is not judged (never both), and
// every rule but the exemption machinery MUST answer to some line of the guide,
// so a new rule cannot be added without saying which line it serves.
func TestGuideItemsNameRealRules(t *testing.T) {
	served := map[string]bool{}
	for _, g := range ruledocs.Guide {
		assert.NotEqual(t, len(g.Rules) > 0, g.NotJudged != "", "%s › %s: rules or a reason, exactly one", g.Section, g.Item)
		for _, id := range g.Rules {
			_, ok := rules.ByID(id)
			assert.True(t, ok, "%s › %s names %s, which no rule has", g.Section, g.Item, id)
			served[id] = true
		}
	}
	for _, r := range rules.All() {
		id := r.Describe().ID
		if strings.HasPrefix(id, "exemption-") {
			continue
		}
		assert.True(t, served[id], "rule %s answers to no item of ruledocs.Guide", id)
	}
}
