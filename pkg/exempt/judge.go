package exempt

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The judgements of an exemption, one per exemption-* rule, in cert-manager's
// ValidateX style: each returns the errors at the annotation's path.

// ValidateReason requires an exemption to say why: an unexplained exemption is
// how HA quietly erodes, and nobody can later judge whether it still holds.
func ValidateReason(e Exemption) field.ErrorList {
	if !e.Requested() || e.Reason != "" {
		return nil
	}
	return field.ErrorList{field.Required(Path(AnnotationReason),
		"an exemption must say why; fix: add annotation "+AnnotationReason+" (who, why, ticket)")}
}

// ValidateUntil requires an expiry that can be read: the exemption would
// otherwise last forever without anyone meaning it to.
func ValidateUntil(e Exemption) field.ErrorList {
	if !e.Requested() || e.UntilText == "" || e.Until != nil {
		return nil
	}
	return field.ErrorList{field.Invalid(Path(AnnotationUntil), e.UntilText,
		"is not an RFC 3339 time; fix: write it like 2030-12-31T00:00:00Z")}
}

// ValidateNotExpired reports an exemption whose date has passed at now: it is
// ignored and its rules apply again.
func ValidateNotExpired(e Exemption, now time.Time) field.ErrorList {
	if !e.Valid() || !e.Expired(now) {
		return nil
	}
	return field.ErrorList{field.Invalid(Path(AnnotationUntil), e.UntilText,
		"exemption expired; rules apply again")}
}

// ValidateRuleNames reports named IDs that are no rule (known says which are;
// a typo would otherwise look like a working exemption) or that cannot be exempted.
func ValidateRuleNames(e Exemption, known func(id string) bool) field.ErrorList {
	var bad []string
	for _, id := range e.Rules {
		if !known(id) || !Exemptible(id) {
			bad = append(bad, id)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(Path(AnnotationRules), strings.Join(bad, ","),
		"names no exemptible rule; see docs/rules.md")}
}

// LogValues are the key/value pairs of the info line for the exemptions used:
// the rules exempted and the expiry as written. Not the reason: it is free text
// of any length from whoever may edit the workload, and the line is written on
// every request the exemption covers (each apply, each autoscaler's scale
// write). It stays in the object's annotation and in ReasonLogValues' debug line.
func (e Exemption) LogValues(exempted []string) []any {
	return []any{"exempted", exempted, "until", e.UntilText}
}

// ReasonLogValues are the debug line's pairs: the rules exempted and the reason.
func (e Exemption) ReasonLogValues(exempted []string) []any {
	return []any{"exempted", exempted, "reason", e.Reason}
}
