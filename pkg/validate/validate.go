// Package validate runs the HA checks on a Laminar workload, or on an object that
// governs one, and decides what becomes of each violation: denied, warned,
// audited in a warn-mode namespace, ratcheted, or exempted. Turning a decision
// into an admission response is pkg/admit's job.
package validate

import (
	"fmt"
	"slices"
	"unicode/utf8"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// MaxWarningLength keeps a warning readable on one terminal line; the API server
// itself truncates longer ones.
const MaxWarningLength = 120

// Violation is one failed check.
type Violation struct {
	RuleID string
	Action rules.Action
	// Err carries the field path, the bad value and the detail (with the rule ID).
	Err *field.Error
}

// violations runs every check that applies to w in situation s. only, when not
// empty, limits the run to those rule IDs.
func violations(w *workload.Workload, p *policy.Policy, s rules.Situation, only []string) []Violation {
	var out []Violation
	for r := range rules.Checks() {
		action := r.ActionIn(p)
		if action == rules.ActionOff || !r.AppliesTo(w) || (len(only) > 0 && !slices.Contains(only, r.ID)) {
			continue
		}
		out = appendViolations(out, r.ID, action, r.Judge(w, p, s))
	}
	return out
}

// budgetViolations judges the disruption budgets over w's pods against w as it
// is now, so that a replica edit, a scale, an autoscaler's floor or a workload
// created after its budget cannot leave drains blocked any more than a budget
// edit can. The budget checks' own messages are used, at the field that moved
// (at: spec.replicas of the workload or scale, spec.minReplicas of an
// autoscaler) and naming the budget.
func budgetViolations(w *workload.Workload, p *policy.Policy, s rules.Situation, only []string, at *field.Path) []Violation {
	if s.View == nil {
		return nil
	}
	budgets := s.View.BudgetsSelecting(s.Ctx, w.Meta.Namespace, w.Template.Labels)
	objs := make([]governing, len(budgets))
	for i := range budgets {
		objs[i] = governing{&budgets[i], budgets[i].Name}
	}
	return governingViolations(w, p, s, only, rules.KindPodDisruptionBudget, objs,
		func(*field.Error) (*field.Path, any) { return at, w.Replicas() })
}

// routingViolations judges the Services that send traffic to w's pods against
// w as it is now, so that a workload created after its Service (objects arrive
// in any order) or relabelled under one is judged as the Service's own write
// would have been. The Service checks' own messages are used, at the pod
// labels the Service selects by and naming it; an old violation ratchets like
// any other.
func routingViolations(w *workload.Workload, p *policy.Policy, s rules.Situation, only []string) []Violation {
	if s.View == nil {
		return nil
	}
	services := s.View.ServicesSelecting(s.Ctx, w.Meta.Namespace, w.Template.Labels)
	objs := make([]governing, len(services))
	for i := range services {
		objs[i] = governing{&services[i], services[i].Name}
	}
	return governingViolations(w, p, s, only, rules.KindService, objs,
		func(e *field.Error) (*field.Path, any) { return podLabelsPath, e.BadValue })
}

// governing is an object of a governing kind found over a workload's pods.
type governing struct {
	obj  runtime.Object
	name string
}

// governingViolations runs the related checks of kind on each object against
// w, each violation reported on w's side at the field where names it, with the
// object's name and its own field in the message.
func governingViolations(w *workload.Workload, p *policy.Policy, s rules.Situation, only []string, kind string,
	objs []governing, where func(*field.Error) (*field.Path, any)) []Violation {
	var out []Violation
	for r := range rules.RelatedChecks() {
		action := r.ActionIn(p)
		if action == rules.ActionOff || !r.AppliesTo(kind, w) || (len(only) > 0 && !slices.Contains(only, r.ID)) {
			continue
		}
		for _, o := range objs {
			var errs field.ErrorList
			for _, e := range r.Judge(o.obj, w, p, s) {
				at, bad := where(e)
				errs = append(errs, field.Invalid(at, bad, fmt.Sprintf("%s %s %s: %s", kind, o.name, e.Field, e.Detail)))
			}
			out = appendViolations(out, r.ID, action, errs)
		}
	}
	return out
}

// replicasPath and autoscalerFloorPath are where budget violations are
// reported, podLabelsPath those of the Services over a workload.
var (
	replicasPath        = workload.SpecPath.Child("replicas")
	autoscalerFloorPath = field.NewPath("spec", "minReplicas")
	podLabelsPath       = workload.SpecPath.Child("template", "metadata", "labels")
)

// lowestReplicas is target at the fewest replicas it will run at: its own
// count, or the floor of an autoscaler that manages it if that is lower. A
// budget must let drains through there too.
func lowestReplicas(target *workload.Workload, s rules.Situation) *workload.Workload {
	if s.View == nil {
		return target
	}
	lowest := target.Replicas()
	for _, hpa := range s.View.AutoscalersTargeting(s.Ctx, target.Meta.Namespace, target.Kind, target.Meta.Name) {
		lowest = min(lowest, rules.AutoscalerFloor(&hpa))
	}
	if lowest == target.Replicas() {
		return target
	}
	return target.WithReplicas(lowest)
}

// relatedViolations runs the checks for an object of kind that governs target.
// An autoscaler also moves the workload's side of its budgets: they are judged
// at its floor.
func relatedViolations(obj runtime.Object, kind string, target *workload.Workload, p *policy.Policy, s rules.Situation) []Violation {
	if pdb, ok := obj.(*policyv1.PodDisruptionBudget); ok && pdb != nil {
		target = lowestReplicas(target, s)
	}
	var out []Violation
	for r := range rules.RelatedChecks() {
		if action := r.ActionIn(p); action != rules.ActionOff && r.AppliesTo(kind, target) {
			out = appendViolations(out, r.ID, action, r.Judge(obj, target, p, s))
		}
	}
	if hpa, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler); ok && hpa != nil {
		out = append(out, budgetViolations(target.WithReplicas(rules.AutoscalerFloor(hpa)), p, s, nil, autoscalerFloorPath)...)
	}
	return out
}

func appendViolations(out []Violation, id string, action rules.Action, errs field.ErrorList) []Violation {
	for _, e := range errs {
		e.Detail = fmt.Sprintf("[%s] %s", id, e.Detail)
		out = append(out, Violation{RuleID: id, Action: action, Err: e})
	}
	return out
}

// Warning renders a field error as one admission warning of at most
// MaxWarningLength characters: "<field>: <detail>", detail starting with the rule ID.
func Warning(e *field.Error) string {
	return FitWarning(fmt.Sprintf("%s: %s", e.Field, e.Detail))
}

// FitWarning cuts s to MaxWarningLength characters, ending it with "…" when cut.
func FitWarning(s string) string {
	if utf8.RuneCountInString(s) <= MaxWarningLength {
		return s
	}
	r := []rune(s)
	return string(r[:MaxWarningLength-1]) + "…"
}
