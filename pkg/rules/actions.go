package rules

import (
	"github.com/laminar/ha-webhook/pkg/policy"
)

// checkActions are what the policy may set a check to; defaultActions what it
// may set a default to.
var (
	checkActions   = []Action{ActionDeny, ActionWarn, ActionAudit, ActionOff}
	defaultActions = []Action{ActionDefault, ActionOff}
)

func init() { policy.RegisterRuleCatalog(policyActions) }

// policyActions tells policy validation which actions rule id can be given,
// its catalog action first.
func policyActions(id string) ([]string, bool) {
	r, ok := ByID(id)
	if !ok {
		return nil, false
	}
	d := r.Describe()
	choices := checkActions
	if d.Action == ActionDefault {
		choices = defaultActions
	}
	out := []string{string(d.Action)}
	for _, a := range choices {
		if a != d.Action {
			out = append(out, string(a))
		}
	}
	return out, true
}

// InForce is the action rule r has under p: the policy's rules map when it
// names r, else the catalog's. A nil policy keeps the catalog's.
func InForce(r Rule, p *policy.Policy) Action {
	d := r.Describe()
	if p != nil {
		if a, ok := p.RuleAction(d.ID); ok {
			return Action(a)
		}
	}
	return d.Action
}

// On reports whether the default runs under p.
func (r *Default) On(p *policy.Policy) bool { return InForce(r, p) != ActionOff }

// ActionIn is the check's action under p.
func (r *Check) ActionIn(p *policy.Policy) Action { return InForce(r, p) }

// ActionIn is the related check's action under p.
func (r *RelatedCheck) ActionIn(p *policy.Policy) Action { return InForce(r, p) }

// On reports whether the related default runs under p.
func (r *RelatedDefault) On(p *policy.Policy) bool { return InForce(r, p) != ActionOff }
