// Package exempt reads the annotations that exempt one workload from named rules.
// An exemption must say why, and may say until when; an expired one is ignored.
package exempt

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Annotation keys on the Deployment or StatefulSet.
const (
	AnnotationRules  = "ha.laminar.io/exempt"
	AnnotationReason = "ha.laminar.io/exempt-reason"
	AnnotationUntil  = "ha.laminar.io/exempt-until"
)

// Now is the clock expiry is judged by; tests replace it.
var Now = time.Now

// Prefix of the rules that police exemptions themselves; they cannot be exempted.
const selfPrefix = "exemption-"

// Exemption is what a workload's annotations ask for.
type Exemption struct {
	// Rules are the rule IDs named, in the order written.
	Rules  []string
	Reason string
	// Until is the parsed expiry; nil when absent or unparseable.
	Until *time.Time
	// UntilText is the expiry as written, for messages.
	UntilText string
}

// Read parses the annotations; a workload without ha.laminar.io/exempt has none.
func Read(annotations map[string]string) Exemption {
	raw, ok := annotations[AnnotationRules]
	if !ok {
		return Exemption{}
	}
	e := Exemption{
		Rules:     strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }),
		Reason:    strings.TrimSpace(annotations[AnnotationReason]),
		UntilText: strings.TrimSpace(annotations[AnnotationUntil]),
	}
	if e.UntilText != "" {
		if t, err := time.Parse(time.RFC3339, e.UntilText); err == nil {
			e.Until = &t
		}
	}
	return e
}

// Requested reports whether the annotations name any rule.
func (e Exemption) Requested() bool { return len(e.Rules) > 0 }

// Valid reports whether the exemption may be honoured at all: it names a reason
// and, if it gives an expiry, the expiry parses.
func (e Exemption) Valid() bool {
	return e.Requested() && e.Reason != "" && (e.UntilText == "" || e.Until != nil)
}

// Expired reports whether the exemption's date has passed at now.
func (e Exemption) Expired(now time.Time) bool {
	return e.Until != nil && !now.Before(*e.Until)
}

// Covers reports whether rule id is exempted at now.
func (e Exemption) Covers(id string, now time.Time) bool {
	if !e.Valid() || e.Expired(now) || strings.HasPrefix(id, selfPrefix) {
		return false
	}
	for _, r := range e.Rules {
		if r == id {
			return true
		}
	}
	return false
}

// Path is the field path of an exemption annotation, for error messages.
func Path(key string) *field.Path {
	return field.NewPath("metadata", "annotations").Key(key)
}
