package policy

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Messages that more than one check gives.
const (
	msgAtLeastOne  = "must be at least 1"
	msgNotNegative = "must not be negative"
	msgPositive    = "must be greater than zero"
)

// Validate checks every value; the error list names each bad field by its path in the file.
func (p *Policy) Validate() field.ErrorList {
	return ValidatePolicy(p)
}

// ValidatePolicy checks a whole policy file and reports every bad value at once,
// each named by its path in the file (api.replicas.min).
func ValidatePolicy(p *Policy) field.ErrorList {
	if p == nil {
		return field.ErrorList{field.Required(field.NewPath("policy"), "no policy to validate")}
	}
	var errs field.ErrorList
	if p.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), p.APIVersion, []string{APIVersion}))
	}
	if p.Kind != Kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), p.Kind, []string{Kind}))
	}
	errs = append(errs, ValidateAPIPolicy(p.API, field.NewPath("api"))...)
	errs = append(errs, ValidateEnforcement(p.Enforcement, field.NewPath("enforcement"))...)
	errs = append(errs, ValidateExemptions(p.Exemptions, field.NewPath("exemptions"))...)
	errs = append(errs, ValidateControllerPolicy(p.Controller, field.NewPath("controller"))...)
	errs = append(errs, ValidateRules(p.Rules, field.NewPath("rules"))...)
	return errs
}

// ValidateEnforcement checks the cluster-wide defaults of the namespace switches.
func ValidateEnforcement(e Enforcement, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if modes := []string{ModeDeny, ModeWarn, ModeOff}; !slices.Contains(modes, e.Mode) {
		errs = append(errs, field.NotSupported(fldPath.Child("mode"), e.Mode, modes))
	}
	if mutate := []string{MutateOn, MutateOff}; !slices.Contains(mutate, e.Mutate) {
		errs = append(errs, field.NotSupported(fldPath.Child("mutate"), e.Mutate, mutate))
	}
	return errs
}

// ValidateExemptions checks who may exempt and for how long.
func ValidateExemptions(e Exemptions, fldPath *field.Path) field.ErrorList {
	if e.MaxDuration.Duration < 0 {
		return field.ErrorList{field.Invalid(fldPath.Child("maxDuration"), e.MaxDuration.Duration.String(), msgNotNegative+" (0 means no bound)")}
	}
	return nil
}

// ValidateReplicas checks a replica floor and the recommended count above it.
func ValidateReplicas(r Replicas, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.Min < 1 {
		errs = append(errs, field.Invalid(fldPath.Child("min"), r.Min, msgAtLeastOne))
	}
	if r.Recommended < r.Min {
		errs = append(errs, field.Invalid(fldPath.Child("recommended"), r.Recommended, fmt.Sprintf("must not be below min (%d)", r.Min)))
	}
	return errs
}

// ValidatePreferredAntiAffinity checks an anti-affinity term the scheduler may
// break (the api's), which needs a weight.
func ValidatePreferredAntiAffinity(a AntiAffinity, fldPath *field.Path) field.ErrorList {
	errs := validateTopologyKey(a.TopologyKey, fldPath)
	if a.Weight < 1 || a.Weight > 100 {
		errs = append(errs, field.Invalid(fldPath.Child("weight"), a.Weight, "must be between 1 and 100"))
	}
	return errs
}

// ValidateRequiredAntiAffinity checks an anti-affinity term the scheduler must
// keep (the controller's), which takes no weight.
func ValidateRequiredAntiAffinity(a AntiAffinity, fldPath *field.Path) field.ErrorList {
	errs := validateTopologyKey(a.TopologyKey, fldPath)
	if a.Weight != 0 {
		// Accepting it would let a setting silently do nothing.
		errs = append(errs, field.Forbidden(fldPath.Child("weight"), "this anti-affinity term is required, so it takes no weight"))
	}
	return errs
}

func validateTopologyKey(key string, fldPath *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(fldPath.Child("topologyKey"), "such as kubernetes.io/hostname")}
	}
	return nil
}

func validatePositiveQuantity(q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), msgPositive)}
	}
	return nil
}
