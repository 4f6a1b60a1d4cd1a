// Package validate judges a Laminar workload against the HA checks and turns the
// violations into a Kubernetes Invalid error with field causes, plus warnings.
package validate

import (
	"fmt"
	"slices"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// Result is every violation of one workload.
type Result struct {
	Violations []Violation
}

// Workload runs every check that applies to w on its own; cluster-aware checks
// pass, as nothing is known of the cluster.
func Workload(w *workload.Workload, p *policy.Policy) Result {
	return WorkloadIn(w, p, rules.Situation{}, nil)
}

// WorkloadIn runs every check that applies to w in situation s. only, when not
// empty, limits the run to those rule IDs.
func WorkloadIn(w *workload.Workload, p *policy.Policy, s rules.Situation, only []string) Result {
	var res Result
	for r := range rules.Each() {
		if r.Action == rules.ActionDefault || !r.AppliesTo(w) || (len(only) > 0 && !slices.Contains(only, r.ID)) {
			continue
		}
		var errs field.ErrorList
		if r.ClusterCheck != nil {
			errs = r.ClusterCheck(w, p, s)
		} else {
			errs = r.Check(w, p)
		}
		res.add(r, errs)
	}
	return res
}

// Related runs the checks for an object of kind that governs target.
func Related(obj runtime.Object, kind string, target *workload.Workload, p *policy.Policy) Result {
	var res Result
	for r := range rules.Each() {
		if r.AppliesToRelated(kind, target) {
			res.add(r, r.Related(obj, target, p))
		}
	}
	return res
}

func (r *Result) add(rule rules.Rule, errs field.ErrorList) {
	for _, e := range errs {
		e.Detail = fmt.Sprintf("[%s] %s", rule.ID, e.Detail)
		r.Violations = append(r.Violations, Violation{RuleID: rule.ID, Action: rule.Action, Err: e})
	}
}

// Denials lists the violations of deny rules as field errors.
func (r Result) Denials() field.ErrorList {
	var errs field.ErrorList
	for _, v := range r.Violations {
		if v.Action == rules.ActionDeny {
			errs = append(errs, v.Err)
		}
	}
	return errs
}

// Warning renders a field error as one admission warning of at most
// MaxWarningLength characters: "<field>: <detail>", detail starting with the rule ID.
func Warning(e *field.Error) string {
	return truncate(fmt.Sprintf("%s: %s", e.Field, e.Detail), MaxWarningLength)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func invalid(w *workload.Workload, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(w.GroupKind(), w.Name(), errs)
}
