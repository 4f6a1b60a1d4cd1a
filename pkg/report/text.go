package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Text writes the report for people: one block per Laminar object, in input
// order, then a summary line. Input errors are not part of it; the command
// writes them to standard error.
//
//	examples/api-bad.yaml:10: document 1: Deployment laminar-api: denied
//	  DENY [replicas-min] spec.replicas (line 17): Invalid value: 1
//	       a Laminar api needs at least 2 replicas to survive losing a pod
//	       fix: set spec.replicas to 2 or more
func Text(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	for _, o := range r.Objects {
		if o.File != "" {
			fmt.Fprintf(b, "%s:%d: %s: ", o.File, o.Line, docRef(o.Document, o.Item))
		}
		b.WriteString(o.Ref())
		if o.Source != "" {
			fmt.Fprintf(b, " (helm: %s)", o.Source)
		}
		b.WriteString(": " + o.Verdict() + "\n")
		for _, n := range o.Notes {
			fmt.Fprintf(b, "  note: %s\n", n)
		}
		for _, v := range o.Violations {
			at := ""
			if v.Line > 0 {
				at = fmt.Sprintf(" (line %d)", v.Line)
			}
			fmt.Fprintf(b, "  %-4s [%s] %s%s: %s\n", strings.ToUpper(v.Outcome), v.RuleID, v.Field, at, v.Body())
			if v.Message != "" {
				fmt.Fprintf(b, "       %s\n", v.Message)
			}
			if v.Fix != "" {
				fmt.Fprintf(b, "       fix: %s\n", v.Fix)
			}
			switch v.Outcome {
			case OutcomeAudit:
				if v.Action == OutcomeAudit {
					b.WriteString("       (the policy audits this rule: the webhook would admit it with a warning)\n")
				} else {
					b.WriteString("       (enforcement is warn here: the webhook would admit it with a warning)\n")
				}
			case OutcomeExempt:
				reason := ""
				if o.Exemption != nil {
					reason = ": " + o.Exemption.Reason
				}
				fmt.Fprintf(b, "       (exempted by annotation%s)\n", reason)
			}
		}
	}
	if len(r.Objects) > 0 {
		b.WriteString("\n")
	}
	if r.Live {
		b.WriteString(r.Summary.LiveText())
	} else {
		b.WriteString(r.Summary.Text(r.Mutated))
	}
	b.WriteString("\n")
	return b.Flush()
}

// Text is the summary as one sentence.
func (s Summary) Text(mutated bool) string {
	how := "after mutation"
	if !mutated {
		how = "as written"
	}
	exempted := ""
	if s.Exempted > 0 {
		exempted = ", " + strconv.Itoa(s.Exempted) + " exempted"
	}
	return fmt.Sprintf("%s, %s, %s judged %s: %d denied (%s), %s%s, %s.",
		plural(s.Files, "input"), plural(s.Documents, "document"), plural(s.Objects, "Laminar object"), how,
		s.Denied, plural(s.Denials, "denial"), plural(s.Warnings, "warning"), exempted, plural(s.Errors, "input error"))
}

// LiveText is the summary of objects read from a cluster as one sentence.
func (s Summary) LiveText() string {
	exempted := ""
	if s.Exempted > 0 {
		exempted = ", " + strconv.Itoa(s.Exempted) + " exempted"
	}
	return fmt.Sprintf("%s judged as stored: %d denied (%s), %s%s.",
		plural(s.Objects, "Laminar object"), s.Denied, plural(s.Denials, "denial"), plural(s.Warnings, "warning"), exempted)
}

// Verdict says in a few words what the webhook answers.
func (o Object) Verdict() string {
	warned := false
	for _, v := range o.Violations {
		if v.Outcome == OutcomeWarn || v.Outcome == OutcomeAudit {
			warned = true
		}
	}
	switch {
	case !o.Allowed:
		return "denied"
	case o.Enforce == "off":
		return "not judged (enforcement off)"
	case warned || len(o.Notes) > 0:
		return "allowed with warnings"
	}
	return "ok"
}

// Body is the Kubernetes rendering of the violation without field and detail:
// "Invalid value: 1", "Required value".
func (v Violation) Body() string {
	t := field.ErrorType(v.Reason).String()
	if len(v.Value) == 0 {
		return t
	}
	var s string
	if json.Unmarshal(v.Value, &s) == nil {
		return t + ": " + strconv.Quote(s)
	}
	return t + ": " + string(v.Value)
}

func docRef(doc, item int) string {
	s := "document " + strconv.Itoa(doc)
	if item > 0 {
		s += ", item " + strconv.Itoa(item)
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func itoa(n int) string { return strconv.Itoa(n) }
