package report

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
)

// NewViolation is an engine finding in its report form, located at line and
// column of its input (0 when it has none, as an object read from a cluster).
func NewViolation(f validate.Finding, line, column int) Violation {
	v, e := f.Violation, f.Err
	out := Violation{
		RuleID:  v.RuleID,
		Action:  string(v.Action),
		Outcome: string(f.Outcome),
		Field:   e.Field,
		Reason:  string(e.Type),
		Line:    line,
		Column:  column,
	}
	if hasValue(e.Type) {
		if js, err := json.Marshal(e.BadValue); err == nil {
			out.Value = js
		} else {
			out.Value, _ = json.Marshal(fmt.Sprint(e.BadValue))
		}
	}
	out.Message, out.Fix = splitDetail(v.RuleID, e.Detail)
	if out.Message == "" {
		if r, ok := rules.ByID(v.RuleID); ok {
			out.Message = r.Describe().Summary
		}
	}
	return out
}

// hasValue mirrors field.Error.ErrorBody: these types print no value.
func hasValue(t field.ErrorType) bool {
	switch t {
	case field.ErrorTypeRequired, field.ErrorTypeForbidden, field.ErrorTypeTooLong, field.ErrorTypeTooShort, field.ErrorTypeInternal:
		return false
	}
	return true
}

// splitDetail cuts "[rule-id] what is wrong; fix: how to fix it" in two.
func splitDetail(id, detail string) (message, fix string) {
	d := strings.TrimPrefix(detail, "["+id+"] ")
	if f, ok := strings.CutPrefix(d, "fix: "); ok {
		return "", f
	}
	if i := strings.Index(d, "; fix: "); i >= 0 {
		return d[:i], d[i+len("; fix: "):]
	}
	return d, ""
}
