package policy

import (
	"fmt"
	"strings"
)

// EnforceMode is a namespace's enforcement mode: its ha.laminar.io/enforce label
// when that holds an allowed value, else the policy's default. note explains a
// label value that was not allowed; the webhook and the offline check both show it.
func (p *Policy) EnforceMode(namespaceLabels map[string]string) (mode, note string) {
	return switchValue(namespaceLabels, LabelMode, p.Enforcement.Mode, ModeDeny, ModeWarn, ModeOff)
}

// MutateMode is a namespace's mutation switch, read like EnforceMode.
func (p *Policy) MutateMode(namespaceLabels map[string]string) (mode, note string) {
	return switchValue(namespaceLabels, LabelMutate, p.Enforcement.Mutate, MutateOn, MutateOff)
}

func switchValue(labels map[string]string, key, def string, allowed ...string) (value, note string) {
	v, ok := labels[key]
	if !ok {
		return def, ""
	}
	for _, a := range allowed {
		if v == a {
			return v, ""
		}
	}
	return def, fmt.Sprintf("namespace label %s=%q is not one of %s; using %q", key, v, strings.Join(allowed, ", "), def)
}
