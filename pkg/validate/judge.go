package validate

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Outcome is what became of one violation.
type Outcome string

const (
	// OutcomeDeny rejects the request.
	OutcomeDeny Outcome = "deny"
	// OutcomeWarn is a warn rule's admission warning.
	OutcomeWarn Outcome = "warn"
	// OutcomeAudit is a deny rule in a warn-mode namespace: warned and recorded, allowed.
	OutcomeAudit Outcome = "audit"
	// OutcomeRatchet is a deny rule the old object already broke the same way: warned, allowed.
	OutcomeRatchet Outcome = "ratchet"
	// OutcomeExempt is a violation an exemption annotation excuses: recorded only.
	OutcomeExempt Outcome = "exempt"
	// OutcomePending is a deny the old object already had and a default would
	// fix, on an UPDATE that leaves the pod template as it was, so mutation
	// left the default for the template's next change: warned, allowed.
	OutcomePending Outcome = "pending"
)

// Context is what a decision depends on besides the object and the policy.
type Context struct {
	// Mode is the namespace's enforcement mode: policy.ModeDeny or policy.ModeWarn.
	Mode string
	// Only, when not empty, limits the judgement to these rule IDs (a scale request
	// is judged by the replica rules alone).
	Only []string
	// Situation is what the checks see: the time, the old object, the cluster.
	rules.Situation
	// Pending is the object as the defaults mutation deferred would make it
	// (mutate.Pending); nil when none was deferred.
	Pending *workload.Workload
}

// Finding is a violation with what became of it.
type Finding struct {
	Violation
	Outcome Outcome
}

// Decision is the judgement of one admission request.
type Decision struct {
	Findings []Finding
}

// Judge runs every check and decides each violation's outcome: an exemption
// excuses it; on UPDATE with ratcheting on, a deny the old object already had with
// the same field and value only warns (so an urgent change to a legacy workload is
// never blocked by an unrelated old problem, while making it worse still is); in a
// warn-mode namespace a deny only warns.
//
// A violation the old object had only under an exemption is no baseline: once
// the exemption expires or is removed, the next change is denied, so ratcheting
// cannot make an exemption permanent. An old object that was not a Laminar
// workload (c.Old nil), or that may have been written while enforcement was off
// in its namespace (created before it was last switched back on), ratchets
// nothing: the update is judged as a CREATE.
func Judge(w *workload.Workload, p *policy.Policy, c Context) Decision {
	ex := exempt.Read(w.Meta.Annotations)
	var before map[string]bool
	if c.Old != nil && p.Enforcement.Ratchet && c.Judged(c.Old.Meta.CreationTimestamp) {
		before = map[string]bool{}
		// The old object is judged as it stood: nothing about it is being granted
		// now, so no permission is asked (Authorizer nil).
		old := c.Situation
		old.Old, old.Authorizer = nil, nil
		oldEx := exempt.Read(c.Old.Meta.Annotations)
		for _, v := range slices.Concat(violations(c.Old, p, old, c.Only), budgetViolations(c.Old, p, old, c.Only, replicasPath),
			routingViolations(c.Old, p, old, c.Only)) {
			if !oldEx.Names(v.RuleID) {
				before[sameness(v)] = true
			}
		}
	}
	return decide(slices.Concat(violations(w, p, c.Situation, c.Only), budgetViolations(w, p, c.Situation, c.Only, replicasPath),
		routingViolations(w, p, c.Situation, c.Only)), ex, before, pending(w, p, c), c)
}

// pending lists the denials that wait for deferred defaults: those of w that
// the old object had too (whatever the ratchet says: before the defaults were
// deferred, mutation would have fixed them on this very update) and that the
// defaults fix. A denial the old object did not have (a scale-up to replicas
// that need leader election) or that no default fixes stays a denial.
func pending(w *workload.Workload, p *policy.Policy, c Context) map[string]bool {
	if c.Pending == nil || c.Old == nil {
		return nil
	}
	s := c.Situation
	s.Old, s.Authorizer = nil, nil
	had, fixed := map[string]bool{}, map[string]bool{}
	for _, v := range violations(c.Old, p, s, c.Only) {
		had[sameness(v)] = true
	}
	for _, v := range violations(c.Pending, p, c.Situation, c.Only) {
		fixed[sameness(v)] = true
	}
	out := map[string]bool{}
	for _, v := range violations(w, p, c.Situation, c.Only) {
		if k := sameness(v); v.Action == rules.ActionDeny && had[k] && !fixed[k] {
			out[k] = true
		}
	}
	return out
}

// JudgeRelated decides on an object that governs target (a disruption budget, an
// autoscaler). A budget is judged at the fewest replicas target will run at
// (an autoscaler's floor may be below its count); an autoscaler is judged
// together with the budgets over target's pods at its floor. Exemptions are read from the target workload, where the HA rules'
// owners put them; ratcheting compares with the related object's old version.
func JudgeRelated(obj, old runtime.Object, kind string, target *workload.Workload, p *policy.Policy, c Context) Decision {
	var before map[string]bool
	if old != nil && p.Enforcement.Ratchet && judgedObject(old, c.Situation) {
		before = map[string]bool{}
		for _, v := range relatedViolations(old, kind, target, p, c.Situation) {
			before[sameness(v)] = true
		}
	}
	return decide(relatedViolations(obj, kind, target, p, c.Situation), exempt.Read(target.Meta.Annotations), before, nil, c)
}

// judgedObject is Situation.Judged for any object; one without metadata is not trusted.
func judgedObject(obj runtime.Object, s rules.Situation) bool {
	m, err := meta.Accessor(obj)
	return err == nil && s.Judged(m.GetCreationTimestamp())
}

func decide(vs []Violation, ex exempt.Exemption, before, pending map[string]bool, c Context) Decision {
	var d Decision
	for _, v := range vs {
		out := Outcome(v.Action)
		switch {
		case ex.Covers(v.RuleID, c.Now):
			out = OutcomeExempt
		case v.Action == rules.ActionDeny && pending[sameness(v)]:
			out = OutcomePending
		case v.Action == rules.ActionDeny && before[sameness(v)]:
			out = OutcomeRatchet
		case v.Action == rules.ActionDeny && c.Mode == policy.ModeWarn:
			out = OutcomeAudit
		}
		d.Findings = append(d.Findings, Finding{Violation: v, Outcome: out})
	}
	return d
}

// sameness identifies a violation across the old and new object: same rule, same
// field, same bad value. A changed value is a new violation.
func sameness(v Violation) string {
	return fmt.Sprintf("%s\x00%s\x00%v", v.RuleID, v.Err.Field, v.Err.BadValue)
}

// Denials lists the violations that reject the request.
func (d Decision) Denials() field.ErrorList {
	var errs field.ErrorList
	for _, f := range d.Findings {
		if f.Outcome == OutcomeDeny {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// Warning prefixes say why a deny rule only warned.
const (
	PrefixAudit   = "would deny: "
	PrefixRatchet = "pre-existing: "
	PrefixPending = "pending default: "
)

// Warnings renders every warned finding as one admission warning.
func (d Decision) Warnings() []string {
	var out []string
	for _, f := range d.Findings {
		switch f.Outcome {
		case OutcomeWarn:
			out = append(out, Warning(f.Err))
		case OutcomeAudit:
			out = append(out, FitWarning(PrefixAudit+Warning(f.Err)))
		case OutcomeRatchet:
			out = append(out, FitWarning(PrefixRatchet+Warning(f.Err)))
		case OutcomePending:
			out = append(out, FitWarning(PrefixPending+Warning(f.Err)))
		}
	}
	return out
}

// RuleIDs lists, once each and in catalog order, the rules whose findings ended in outcome.
func (d Decision) RuleIDs(outcome Outcome) []string {
	var ids []string
	seen := map[string]bool{}
	for _, f := range d.Findings {
		if f.Outcome == outcome && !seen[f.RuleID] {
			seen[f.RuleID] = true
			ids = append(ids, f.RuleID)
		}
	}
	return ids
}
