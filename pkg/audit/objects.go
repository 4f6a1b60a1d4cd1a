package audit

import (
	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/report"
	"github.com/laminar/ha-webhook/pkg/validate"
)

// Objects renders v for the check command's formats (text, JSON, SARIF): the
// workload, then each budget and autoscaler governing it. enforce is the
// namespace's own mode, shown beside the mode judged in.
func (v Verdict) Objects(enforce string) []report.Object {
	w := v.Workload
	ex := exempt.Read(w.Meta.Annotations)
	object := func(apiVersion, kind, name string, d validate.Decision) report.Object {
		o := report.Object{APIVersion: apiVersion, Kind: kind, Namespace: w.Meta.Namespace, Name: name,
			Role: string(w.Role), Enforce: enforce, Allowed: len(d.Denials()) == 0}
		if ex.Requested() {
			o.Exemption = &report.Exemption{Rules: ex.Rules, Reason: ex.Reason, Until: ex.UntilText}
		}
		if enforce != v.Mode {
			o.Notes = append(o.Notes, "judged as if enforcement were "+v.Mode+" (the namespace's is "+enforce+")")
		}
		for _, f := range d.Findings {
			o.Violations = append(o.Violations, report.NewViolation(f, 0, 0))
		}
		return o
	}
	out := []report.Object{object("apps/v1", w.Kind, w.Meta.Name, v.Own)}
	for _, g := range v.Governing {
		out = append(out, object(apiVersion(g.Kind), g.Kind, g.Name, g.Decision))
	}
	return out
}
