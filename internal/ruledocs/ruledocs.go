// Package ruledocs renders the rule catalog as the Markdown page docs/rules.md,
// so the documentation can never list a rule the code does not have.
package ruledocs

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// Row is one rule as the tables show it, with the action in force under a policy.
type Row struct {
	rules.Description
	// InForce is the action under the policy; it differs from Action when the
	// policy's rules map sets it.
	InForce rules.Action
}

// Rows lists every rule in catalog order with its action under p (the
// guide's defaults when p is nil).
func Rows(p *policy.Policy) []Row {
	var out []Row
	for _, r := range rules.All() {
		out = append(out, Row{Description: r.Describe(), InForce: rules.InForce(r, p)})
	}
	return out
}

// ActionText is the action in force, with the catalog's when the policy changed it.
func (r Row) ActionText() string {
	if r.InForce == r.Action {
		return string(r.InForce)
	}
	return fmt.Sprintf("%s (catalog: %s)", r.InForce, r.Action)
}

// Markdown renders every rule, defaults first, in catalog order, with the
// actions in force under p; docs/rules.md is the rendering for the defaults.
func Markdown(p *policy.Policy) []byte {
	var b bytes.Buffer
	b.WriteString("# Laminar HA rules\n\n")
	b.WriteString("Generated from `pkg/rules/registry.go` by `make docs`; do not edit by hand. ")
	b.WriteString("`laminar-ha-webhook rules --policy FILE -o markdown` renders this page with the actions a policy puts in force.\n\n")
	b.WriteString("Actions: **default** fills a field the user left unset (mutating webhook); ")
	b.WriteString("**deny** rejects the object (validating webhook, HTTP 422 with one cause per violation; in a namespace on `warn` it is audited); ")
	b.WriteString("**warn** admits it with an admission warning; ")
	b.WriteString("**audit** admits it with a `would deny:` warning and records it as audited, as a namespace on `warn` does, for this rule only; ")
	b.WriteString("**off** does not run the rule.\n")
	b.WriteString("The policy's `rules` map sets one rule's action by ID (`deny`, `warn`, `audit` or `off` for a check, `default` or `off` for a default); ")
	b.WriteString("an ID no rule has, or an action a rule cannot take, is a policy error.\n")
	b.WriteString("Every message starts with the rule ID in brackets, e.g. `[replicas-min]`.\n")
	rows := Rows(p)
	for _, group := range []struct {
		title    string
		defaults bool
	}{
		{"Defaults", true},
		{"Checks", false},
	} {
		fmt.Fprintf(&b, "\n## %s\n\n", group.title)
		b.WriteString("| ID | Roles | Kinds | Action | Guide section | What it does |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, r := range rows {
			if (r.Action == rules.ActionDefault) != group.defaults {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n",
				r.ID, r.roles(), r.kinds(), r.ActionText(), r.Section, strings.ReplaceAll(r.Summary, "|", `\|`))
		}
	}
	writeGuide(&b)
	return b.Bytes()
}

// writeGuide renders the guide item by item with the rules that judge each,
// then the items no rule judges and why.
func writeGuide(b *bytes.Buffer) {
	b.WriteString("\n## The guide, item by item\n\n")
	b.WriteString("Every value and sentence of the [HA guide](../../shared/laminar-ha-guide.txt) and the rules that fill or judge it.\n\n")
	b.WriteString("| Guide section | Item | Rules |\n|---|---|---|\n")
	var notJudged []GuideItem
	for _, g := range Guide {
		if g.NotJudged != "" {
			notJudged = append(notJudged, g)
			continue
		}
		ids := make([]string, len(g.Rules))
		for i, id := range g.Rules {
			ids[i] = "`" + id + "`"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", g.Section, strings.ReplaceAll(g.Item, "|", `\|`), strings.Join(ids, ", "))
	}
	b.WriteString("\n## Not judged, and why\n\n")
	for _, g := range notJudged {
		fmt.Fprintf(b, "- **%s** (%s): %s.\n", g.Item, g.Section, g.NotJudged)
	}
}

// Text writes one line per rule for a terminal: ID, action in force, roles, kinds.
func Text(w io.Writer, p *policy.Policy) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTION\tROLES\tKINDS")
	for _, r := range Rows(p) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.ActionText(), r.roles(), r.kinds())
	}
	return tw.Flush()
}

func (r Row) roles() string {
	roles := make([]string, len(r.Roles))
	for i, role := range r.Roles {
		roles[i] = string(role)
	}
	return strings.Join(roles, ", ")
}

func (r Row) kinds() string {
	if len(r.Kinds) == 0 {
		return "any"
	}
	return strings.Join(r.Kinds, ", ")
}
