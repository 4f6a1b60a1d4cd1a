package offline

import (
	"github.com/laminar/ha-webhook/internal/version"
	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/report"
)

// ToolName is the program name in reports.
const ToolName = "laminar-ha-webhook"

// Options tune a check.
type Options struct {
	// Policy is the policy in force; nil means the guide's defaults.
	Policy *policy.Policy
	// AsWritten judges objects as written instead of after the webhook's
	// mutation (--no-mutate).
	AsWritten bool
	// Clock is the time exemptions are judged at; nil is the wall clock.
	Clock admit.Clock
	// TrustNamespaceLabels honours the ha.laminar.io/enforce and
	// ha.laminar.io/mutate labels of Namespace objects in the input
	// (--trust-namespace-labels). Off by default: in CI the input is untrusted.
	TrustNamespaceLabels bool
}

// Check judges every Laminar object of the sources, in input order, as the
// webhook pair would on CREATE: the mutating handler's Decide on the object as
// written, then the validating handler's on the result. Namespaces come from
// Namespace objects in the input; others get the policy's defaults. Objects that
// are not Laminar's, and kinds the webhook does not judge, are skipped.
func Check(srcs []Source, opts Options) *report.Report {
	r := report.New(report.Tool{Name: ToolName, Version: version.Version}, !opts.AsWritten)
	sources, e := newEngine(srcs, opts)
	for _, src := range sources {
		if src.Err != nil {
			r.AddError(report.InputError{File: src.Name, Message: src.Err.Error()})
			continue
		}
		r.Summary.Files++
		for _, pd := range src.docs {
			if pd.doc.Index == 0 {
				continue
			}
			r.Summary.Documents++
			checkDocument(r, src.Name, pd, e, opts.AsWritten)
		}
	}
	return r
}

func checkDocument(r *report.Report, file string, pd parsedDoc, e engine, asWritten bool) {
	doc := pd.doc
	if pd.err != nil {
		line, msg := yamlErrorLine(doc, pd.err)
		r.AddError(report.InputError{File: file, Document: doc.Index, Line: line, Message: msg})
		return
	}
	loc := manifest.NewLocator(doc)
	for _, o := range pd.content.Objects {
		if o.Typed == nil && o.Err == nil && !related(o.GVK) {
			continue // a kind the webhook does not judge
		}
		start := loc.Object(o.Item)
		if o.Err != nil {
			r.AddError(report.InputError{File: file, Document: doc.Index, Item: o.Item, Line: start.Line, Message: o.Err.Error()})
			continue
		}
		j, err := e.judge(o, asWritten)
		if err != nil {
			r.AddError(report.InputError{File: file, Document: doc.Index, Item: o.Item, Line: start.Line, Message: err.Error()})
			continue
		}
		if j == nil {
			continue // not Laminar's, or being deleted
		}
		w := j.Validation.Subject
		out := report.Object{
			File:       file,
			Document:   doc.Index,
			Item:       o.Item,
			Line:       start.Line,
			Column:     start.Column,
			Source:     doc.HelmSource(),
			APIVersion: o.GVK.GroupVersion().String(),
			Kind:       o.GVK.Kind,
			Namespace:  w.Namespace,
			Name:       w.Name,
			Role:       string(w.Role),
			Enforce:    j.Validation.Switch.Mode,
			Mutate:     j.Mutation.Switch.Mode,
			Notes:      j.Notes(),
		}
		if res := j.Mutation.Mutation; res != nil {
			out.DefaultsApplied, out.DefaultsExempted = res.Applied, res.Exempted
		}
		if ex := j.Validation.Subject.Exemption; ex.Requested() {
			out.Exemption = &report.Exemption{Rules: ex.Rules, Reason: ex.Reason, Until: ex.UntilText}
		}
		for _, f := range j.Decision().Findings {
			pos, _ := loc.Field(o.Item, f.Err.Field)
			v := report.NewViolation(f, pos.Line, pos.Column)
			out.Violations = append(out.Violations, v)
		}
		r.AddObject(out)
	}
}
