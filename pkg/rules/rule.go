// Package rules holds every Laminar HA rule: the defaults mutation fills in and the
// checks validation enforces. Each rule is a small function in its own file; the
// tables in registry.go give it a stable ID, the roles it applies to, its action and
// the guide section it comes from. Documentation is generated from those tables.
//
// A rule is one of three types, so that what it does is known to the compiler:
// a Default fills a workload, a Check judges a workload, a RelatedCheck judges an
// object that governs or routes to a workload (a disruption budget, an
// autoscaler, a Service, an Ingress), and a RelatedDefault fills such an object.
package rules

import (
	"context"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Action is what a rule does with a workload.
type Action string

const (
	// ActionDefault fills a value the user left unset.
	ActionDefault Action = policy.RuleDefault
	// ActionDeny rejects the object.
	ActionDeny Action = policy.RuleDeny
	// ActionWarn admits the object with an admission warning.
	ActionWarn Action = policy.RuleWarn
	// ActionAudit admits the object with a "would deny" warning: the policy
	// sets it on one rule to roll it out before it denies.
	ActionAudit Action = policy.RuleAudit
	// ActionOff does not run the rule (set by the policy only).
	ActionOff Action = policy.RuleOff
)

// Situation is what a check sees besides the object and the policy. The engines
// build it once per request; a rule never reads a clock or the cluster itself.
type Situation struct {
	Ctx context.Context
	// Now is the time the request is judged at (exemption expiry).
	Now time.Time
	// Old is the stored object on UPDATE, nil on CREATE.
	Old *workload.Workload
	// View is nil where no cluster state is known; cluster-aware rules then pass.
	View View
	// Authorizer is nil where no requesting user is known; permission checks then pass.
	Authorizer Authorizer
	// Nodes is what is known of the schedulable nodes.
	Nodes Nodes
	// EnforcedSince is when enforcement in the namespace was last switched back
	// on from off (zero: never off, as far as is known). An old object created
	// before it may never have been judged.
	EnforcedSince time.Time
}

// Judged reports whether an object created at created can be trusted to have
// been judged when it was last written: it was created after enforcement was
// last switched back on in its namespace. A second's tie counts as not judged.
func (s Situation) Judged(created metav1.Time) bool {
	return s.EnforcedSince.IsZero() || created.Time.After(s.EnforcedSince)
}

// DefaultFunc fills unset fields of w and reports whether it changed anything.
// It never replaces a value the user chose. s tells it the cluster's nodes;
// a default never reads the cluster otherwise.
type DefaultFunc func(w *workload.Workload, p *policy.Policy, s Situation) bool

// CheckFunc returns one error per violation, each with the field path, the bad
// value and a detail that says what is wrong and how to fix it.
type CheckFunc func(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList

// RelatedCheckFunc judges an object that governs or routes to a Laminar
// workload (a PodDisruptionBudget, an autoscaler, a Service, an Ingress)
// against that workload. s tells it the cluster around the object (which
// controller serves an Ingress).
type RelatedCheckFunc func(obj runtime.Object, target *workload.Workload, p *policy.Policy, s Situation) field.ErrorList

// RelatedDefaultFunc fills unset fields of obj, an object that routes to
// target, and reports whether it changed anything. It never replaces a value
// the user chose.
type RelatedDefaultFunc func(obj runtime.Object, target *workload.Workload, p *policy.Policy, s Situation) bool

// Meta is what every rule has.
type Meta struct {
	// ID is stable: exemptions, metrics and docs refer to it.
	ID    string
	Roles []workload.Role
	// Section is the heading of the HA guide the rule comes from.
	Section string
	// Summary is one line for the rule table.
	Summary string
}

// Default is a rule the mutating webhook runs.
type Default struct {
	Meta
	// WorkloadKinds limits the rule to some workload kinds; empty means both.
	WorkloadKinds []string
	Fill          DefaultFunc
}

// Check is a rule the validating webhook runs on a workload.
type Check struct {
	Meta
	Action Action
	// WorkloadKinds limits the rule to some workload kinds; empty means both.
	WorkloadKinds []string
	Judge         CheckFunc
}

// RelatedDefault is a rule the mutating webhook runs on an object that routes
// to a workload of one of Roles.
type RelatedDefault struct {
	Meta
	// ObjectKind is the kind of the object filled.
	ObjectKind string
	Fill       RelatedDefaultFunc
}

// RelatedCheck is a rule the validating webhook runs on an object that governs
// or routes to a workload of one of Roles.
type RelatedCheck struct {
	Meta
	Action Action
	// ObjectKind is the kind of the governing object judged.
	ObjectKind string
	Judge      RelatedCheckFunc
}

// Rule is any entry of the catalog: a *Default, a *RelatedDefault, a *Check or
// a *RelatedCheck.
type Rule interface {
	// Describe is the rule as the catalog documents it.
	Describe() Description
	isRule()
}

// Description is a rule's catalog entry, whatever its type.
type Description struct {
	Meta
	Action Action
	// Kinds names what the rule is run on: workload kinds for defaults and checks
	// (empty means both), the governing object's kind for related checks.
	Kinds []string
	// Related is set for rules that fill or judge a governing object, not the workload.
	Related bool
}

// Describe implements Rule.
func (r *Default) Describe() Description {
	return Description{Meta: r.Meta, Action: ActionDefault, Kinds: r.WorkloadKinds}
}

// Describe implements Rule.
func (r *RelatedDefault) Describe() Description {
	return Description{Meta: r.Meta, Action: ActionDefault, Kinds: []string{r.ObjectKind}, Related: true}
}

// Describe implements Rule.
func (r *Check) Describe() Description {
	return Description{Meta: r.Meta, Action: r.Action, Kinds: r.WorkloadKinds}
}

// Describe implements Rule.
func (r *RelatedCheck) Describe() Description {
	return Description{Meta: r.Meta, Action: r.Action, Kinds: []string{r.ObjectKind}, Related: true}
}

func (*Default) isRule()        {}
func (*RelatedDefault) isRule() {}
func (*Check) isRule()          {}
func (*RelatedCheck) isRule()   {}

// AppliesTo reports whether the default fills this workload.
func (r *Default) AppliesTo(w *workload.Workload) bool {
	return appliesTo(r.Roles, r.WorkloadKinds, w)
}

// AppliesTo reports whether the check judges this workload.
func (r *Check) AppliesTo(w *workload.Workload) bool {
	return appliesTo(r.Roles, r.WorkloadKinds, w)
}

// AppliesTo reports whether the default fills an object of kind that routes to target.
func (r *RelatedDefault) AppliesTo(kind string, target *workload.Workload) bool {
	return r.ObjectKind == kind && slices.Contains(r.Roles, target.Role)
}

// AppliesTo reports whether the check judges an object of kind that governs target.
func (r *RelatedCheck) AppliesTo(kind string, target *workload.Workload) bool {
	return r.ObjectKind == kind && slices.Contains(r.Roles, target.Role)
}

func appliesTo(roles []workload.Role, kinds []string, w *workload.Workload) bool {
	return slices.Contains(roles, w.Role) && (len(kinds) == 0 || slices.Contains(kinds, w.Kind))
}
