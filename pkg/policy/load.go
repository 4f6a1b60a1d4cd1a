package policy

import (
	"bytes"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Parse reads a policy document over the defaults: fields it leaves out keep the
// guide's value. Unknown fields are errors, so a typo never silently falls back.
func Parse(data []byte) (*Policy, error) {
	p := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalStrict(data, p); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		// IntOrString's decoder sets only the half it reads, so a value read over a
		// default of the other type keeps a stale other half; clear it.
		normalizeIntOrString(&p.API.RollingUpdate.MaxUnavailable)
		normalizeIntOrString(&p.API.RollingUpdate.MaxSurge)
		normalizeRules(p.Rules)
	}
	if errs := p.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("policy is invalid: %w", errs.ToAggregate())
	}
	return p, nil
}

// Load reads and validates a policy file. An empty path means the defaults.
func Load(path string) (*Policy, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// normalizeIntOrString clears the half of v its type does not use.
func normalizeIntOrString(v *intstr.IntOrString) {
	if v.Type == intstr.String {
		v.IntVal = 0
	} else {
		v.StrVal = ""
	}
}
