package ruledocs_test

import (
	"os"
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
	assert.Equal(t, string(ruledocs.Markdown()), string(committed), "docs/rules.md is stale: run make docs")
}

func TestEveryRuleIsDocumented(t *testing.T) {
	md := string(ruledocs.Markdown())
	for _, r := range rules.All() {
		assert.Contains(t, md, "| `"+r.ID+"` |")
	}
}
