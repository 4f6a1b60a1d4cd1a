// Package exempt is the one home of exemptions: the annotations that excuse one
// workload from named rules. It reads them, judges them (an exemption must say
// why, may say until when, and names rules that exist) and decides which rules
// they cover at a given time; the engines and the exemption-* rules only call it.
// It never reads a clock: the time is always given.
package exempt

import (
	"slices"
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

// SelfPrefix starts the IDs of the rules that police exemptions themselves; they
// cannot be exempted.
const SelfPrefix = "exemption-"

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
	if !e.Valid() || e.Expired(now) || !Exemptible(id) {
		return false
	}
	for _, r := range e.Rules {
		if r == id {
			return true
		}
	}
	return false
}

// Names reports whether the annotations name rule id, whether or not the
// exemption is valid or still in force.
func (e Exemption) Names(id string) bool { return slices.Contains(e.Rules, id) }

// Exemptible reports whether an exemption may name rule id at all.
func Exemptible(id string) bool { return !strings.HasPrefix(id, SelfPrefix) }

// Path is the field path of an exemption annotation, for error messages.
func Path(key string) *field.Path {
	return field.NewPath("metadata", "annotations").Key(key)
}
