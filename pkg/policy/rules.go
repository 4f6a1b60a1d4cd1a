package policy

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Per-rule actions, as the policy's rules map spells them. A check takes deny,
// warn, audit or off; a default takes default or off.
const (
	// RuleDeny rejects the object (in a warn-mode namespace it is audited).
	RuleDeny = "deny"
	// RuleWarn admits the object with an admission warning.
	RuleWarn = "warn"
	// RuleAudit admits the object with a "would deny" warning and records the
	// finding as the namespace's warn mode does, for this one rule: the way to
	// roll a rule out before it denies.
	RuleAudit = "audit"
	// RuleOff does not run the rule.
	RuleOff = "off"
	// RuleDefault runs a default rule (its catalog action).
	RuleDefault = "default"
)

// RuleAction is one rule's entry in the policy's rules map.
type RuleAction string

// normalizeRules undoes YAML 1.1's reading of a bare off as false (the
// decoder hands a string field "false"), so `replicas-min: off` means off.
func normalizeRules(r map[string]RuleAction) {
	for id, a := range r {
		if a == "false" {
			r[id] = RuleOff
		}
	}
}

// RuleCatalog answers, for a rule ID, the actions the policy may give it
// (its catalog action first); known is false for an ID no rule has.
type RuleCatalog func(id string) (actions []string, known bool)

var (
	catalogMu   sync.RWMutex
	ruleCatalog RuleCatalog
)

// RegisterRuleCatalog is called by package rules, which imports this package
// and so cannot be imported by it, to let policy validation check rule IDs.
func RegisterRuleCatalog(c RuleCatalog) {
	catalogMu.Lock()
	defer catalogMu.Unlock()
	ruleCatalog = c
}

func lookupRule(id string) (actions []string, known, registered bool) {
	catalogMu.RLock()
	defer catalogMu.RUnlock()
	if ruleCatalog == nil {
		return nil, false, false
	}
	actions, known = ruleCatalog(id)
	return actions, known, true
}

// ValidateRules checks the per-rule actions: every ID must name a rule, and
// every action must be one that rule can take. A typo is an error rather than a
// rule silently left at its catalog action.
func ValidateRules(r map[string]RuleAction, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	ids := make([]string, 0, len(r))
	for id := range r {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		actions, known, registered := lookupRule(id)
		switch {
		case !registered:
			return field.ErrorList{field.InternalError(fldPath, fmt.Errorf("no rule catalog is registered, so rule IDs cannot be checked"))}
		case !known:
			errs = append(errs, field.Invalid(fldPath.Key(id), id, "no rule has this ID (`laminar-ha-webhook rules` lists them)"))
		case r[id] == "true":
			errs = append(errs, field.Invalid(fldPath.Key(id), "true", fmt.Sprintf("YAML reads a bare on or yes as true: write one of %q", actions)))
		case !slices.Contains(actions, string(r[id])):
			errs = append(errs, field.NotSupported(fldPath.Key(id), string(r[id]), actions))
		}
	}
	return errs
}

// RuleAction is the action the policy gives rule id, and whether it gives one;
// without one the rule keeps its catalog action.
func (p *Policy) RuleAction(id string) (string, bool) {
	a, ok := p.Rules[id]
	return string(a), ok
}
