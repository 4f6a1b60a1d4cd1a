// Package ruledocs renders the rule catalog as the Markdown page docs/rules.md,
// so the documentation can never list a rule the code does not have.
package ruledocs

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/laminar/ha-webhook/pkg/rules"
)

// Markdown renders every rule, defaults first, in catalog order.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Laminar HA rules\n\n")
	b.WriteString("Generated from `pkg/rules/registry.go` by `make docs`; do not edit by hand.\n\n")
	b.WriteString("Actions: **default** fills a field the user left unset (mutating webhook); ")
	b.WriteString("**deny** rejects the object (validating webhook, HTTP 422 with one cause per violation); ")
	b.WriteString("**warn** admits it with an admission warning.\n")
	b.WriteString("Every message starts with the rule ID in brackets, e.g. `[replicas-min]`.\n")
	for _, group := range []struct {
		title   string
		actions []rules.Action
	}{
		{"Defaults", []rules.Action{rules.ActionDefault}},
		{"Checks", []rules.Action{rules.ActionDeny, rules.ActionWarn}},
	} {
		fmt.Fprintf(&b, "\n## %s\n\n", group.title)
		b.WriteString("| ID | Roles | Kinds | Action | Guide section | What it does |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, entry := range rules.All() {
			r := entry.Describe()
			if !slices.Contains(group.actions, r.Action) {
				continue
			}
			roles := make([]string, len(r.Roles))
			for i, role := range r.Roles {
				roles[i] = string(role)
			}
			kinds := "any"
			if len(r.Kinds) > 0 {
				kinds = strings.Join(r.Kinds, ", ")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n",
				r.ID, strings.Join(roles, ", "), kinds, r.Action, r.Section, strings.ReplaceAll(r.Summary, "|", `\|`))
		}
	}
	b.WriteString("\n## Not judged, and why\n\n")
	b.WriteString("Lines of the guide no rule fills in or judges.\n\n")
	b.WriteString("| Guide section | Line | Why |\n")
	b.WriteString("|---|---|---|\n")
	for _, u := range rules.NotJudged() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", u.Section, strings.ReplaceAll(u.Item, "|", `\|`), strings.ReplaceAll(u.Why, "|", `\|`))
	}
	return b.Bytes()
}
