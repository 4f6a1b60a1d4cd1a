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
