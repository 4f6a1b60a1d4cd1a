// Package audit judges what already runs: every Laminar workload in the
// cluster, with the budgets and autoscalers that govern it, by the same engine
// admission uses (validate.Judge, validate.JudgeRelated), and renders each
// workload's verdict as an OpenReports Report. The server runs it in the
// background (Auditor); the audit command runs it once.
package audit

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Governing is a budget, an autoscaler or a Service over a workload, with its verdict.
type Governing struct {
	Kind string
	// Object is the *policyv1.PodDisruptionBudget, *autoscalingv2.HorizontalPodAutoscaler or *corev1.Service.
	Object   runtime.Object
	Name     string
	Decision validate.Decision
}

// Verdict is one workload judged as it is stored, with what governs it.
type Verdict struct {
	Workload *workload.Workload
	// Mode is what the judgement assumed: policy.ModeDeny or policy.ModeWarn.
	Mode string
	// Own is the workload's decision. Findings of the budget and autoscaler
	// rules are on the governing object instead (Governing), once each.
	Own       validate.Decision
	Governing []Governing
}

// Judge judges w as stored, in mode (deny shows what admission would refuse;
// warn audits instead), in situation s: s.View finds its budgets and
// autoscalers, and no ratchet applies, since nothing is being changed.
func Judge(w *workload.Workload, p *policy.Policy, mode string, s rules.Situation) Verdict {
	s.Old, s.Authorizer = nil, nil
	c := validate.Context{Mode: mode, Situation: s}
	v := Verdict{Workload: w, Mode: mode, Own: withoutRelated(validate.Judge(w, p, c))}
	if s.View == nil {
		return v
	}
	ns := w.Meta.Namespace
	budgets := s.View.BudgetsSelecting(s.Ctx, ns, w.Template.Labels)
	for i := range budgets {
		b := &budgets[i]
		v.Governing = append(v.Governing, Governing{Kind: rules.KindPodDisruptionBudget, Object: b, Name: b.Name,
			Decision: validate.JudgeRelated(b, nil, rules.KindPodDisruptionBudget, w, p, c)})
	}
	services := s.View.ServicesSelecting(s.Ctx, ns, w.Template.Labels)
	for i := range services {
		svc := &services[i]
		v.Governing = append(v.Governing, Governing{Kind: rules.KindService, Object: svc, Name: svc.Name,
			Decision: validate.JudgeRelated(svc, nil, rules.KindService, w, p, c)})
	}
	hpas := s.View.AutoscalersTargeting(s.Ctx, ns, w.Kind, w.Meta.Name)
	for i := range hpas {
		h := &hpas[i]
		v.Governing = append(v.Governing, Governing{Kind: rules.KindHorizontalPodAutoscaler, Object: h, Name: h.Name,
			Decision: validate.JudgeRelated(h, nil, rules.KindHorizontalPodAutoscaler, w, p, c)})
	}
	return v
}

// withoutRelated drops the findings of governing-object rules from a
// workload's decision: a budget that blocks drains is reported once, on the
// budget, not also at the workload's replicas.
func withoutRelated(d validate.Decision) validate.Decision {
	d.Findings = slices.DeleteFunc(slices.Clone(d.Findings), func(f validate.Finding) bool { return isRelated(f.RuleID) })
	return d
}

func isRelated(id string) bool {
	for r := range rules.RelatedChecks() {
		if r.ID == id {
			return true
		}
	}
	return false
}

// Denials counts the findings that deny, on the workload and what governs it.
func (v Verdict) Denials() int {
	n := len(v.Own.Denials())
	for _, g := range v.Governing {
		n += len(g.Decision.Denials())
	}
	return n
}

// apiVersion is the group version of a governing kind.
func apiVersion(kind string) string {
	switch kind {
	case rules.KindPodDisruptionBudget:
		return "policy/v1"
	case rules.KindHorizontalPodAutoscaler:
		return "autoscaling/v2"
	}
	return "v1"
}
