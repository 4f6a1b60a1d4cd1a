// Package rules holds every Laminar HA rule: the defaults mutation fills in and the
// checks validation enforces. Each rule is a small function in its own file; the
// table in registry.go gives it a stable ID, the roles it applies to, its action and
// the guide section it comes from. Documentation is generated from that table.
package rules

import (
	"iter"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Action is what a rule does with a workload.
type Action string

const (
	// ActionDefault fills a value the user left unset.
	ActionDefault Action = "default"
	// ActionDeny rejects the object.
	ActionDeny Action = "deny"
	// ActionWarn admits the object with an admission warning.
	ActionWarn Action = "warn"
)

// DefaultFunc fills unset fields of w and reports whether it changed anything.
// It never replaces a value the user chose.
type DefaultFunc func(w *workload.Workload, p *policy.Policy) bool

// CheckFunc returns one error per violation, each with the field path, the bad
// value and a detail that says what is wrong and how to fix it.
type CheckFunc func(w *workload.Workload, p *policy.Policy) field.ErrorList

// Rule is one entry of the catalog.
type Rule struct {
	// ID is stable: exemptions, metrics and docs refer to it.
	ID     string
	Roles  []workload.Role
	Action Action
	// Kinds limits the rule to some workload kinds; empty means every kind.
	Kinds []string
	// Section is the heading of the HA guide the rule comes from.
	Section string
	// Summary is one line for the rule table.
	Summary string

	// Default is set for ActionDefault rules; each other rule sets exactly one of
	// Check (the workload alone), ClusterCheck (the workload in its cluster) and
	// Related (an object governing a workload, of a kind in Kinds).
	Default      DefaultFunc
	Check        CheckFunc
	ClusterCheck ClusterCheckFunc
	Related      RelatedCheckFunc
}

// IsRelated reports whether the rule judges a related object rather than a workload.
func (r *Rule) IsRelated() bool { return r.Related != nil }

// AppliesTo reports whether the rule judges this workload.
func (r *Rule) AppliesTo(w *workload.Workload) bool {
	if r.IsRelated() || !slices.Contains(r.Roles, w.Role) {
		return false
	}
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, w.Kind)
}

// All returns a copy of the catalog in its documented order.
func All() []Rule { return slices.Clone(registry) }

// Each yields every rule, in catalog order, by value: the engines walk the catalog
// on every admission request, and a copy of the whole table each time is waste.
func Each() iter.Seq[Rule] {
	return func(yield func(Rule) bool) {
		for _, r := range registry {
			if !yield(r) {
				return
			}
		}
	}
}

// ByID finds a rule by its ID.
func ByID(id string) (Rule, bool) {
	for _, r := range registry {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// AppliesToRelated reports whether the rule judges a related object of kind that
// governs target.
func (r *Rule) AppliesToRelated(kind string, target *workload.Workload) bool {
	return r.IsRelated() && slices.Contains(r.Kinds, kind) && slices.Contains(r.Roles, target.Role)
}
