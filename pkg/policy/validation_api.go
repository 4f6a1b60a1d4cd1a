package policy

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateAPIPolicy checks what the api Deployment gets and must keep.
func ValidateAPIPolicy(a APIPolicy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, ValidateReplicas(a.Replicas, fldPath.Child("replicas"))...)
	errs = append(errs, ValidateRollingUpdate(a.RollingUpdate, fldPath.Child("rollingUpdate"))...)
	errs = append(errs, ValidatePreferredAntiAffinity(a.AntiAffinity, fldPath.Child("antiAffinity"))...)
	errs = append(errs, ValidateZoneSpread(a.ZoneSpread, fldPath.Child("zoneSpread"))...)
	errs = append(errs, ValidateProbes(a.Probes, fldPath.Child("probes"))...)
	errs = append(errs, ValidateResourceRequest(a.Requests, fldPath.Child("requests"))...)
	gracePath := fldPath.Child("terminationGracePeriodSeconds")
	if a.TerminationGracePeriodSeconds < 1 {
		errs = append(errs, field.Invalid(gracePath, a.TerminationGracePeriodSeconds, msgAtLeastOne))
	}
	errs = append(errs, ValidateIngressPolicy(a.Ingress, fldPath.Child("ingress"))...)
	prePath := fldPath.Child("preStop")
	errs = append(errs, ValidatePreStop(a.PreStop, prePath)...)
	// A seconds value below 1 is reported by ValidatePreStop already.
	if a.PreStop.Seconds >= 1 && a.PreStop.Seconds >= a.TerminationGracePeriodSeconds {
		errs = append(errs, field.Invalid(prePath.Child("seconds"), a.PreStop.Seconds,
			fmt.Sprintf("must be shorter than %s (%d), or the kubelet kills the pod mid-drain", gracePath, a.TerminationGracePeriodSeconds)))
	}
	return errs
}

// ValidateRollingUpdate checks the Deployment strategy's two halves, each a
// whole number or a percentage, which must not both be zero.
func ValidateRollingUpdate(r RollingUpdate, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name string
		v    intstr.IntOrString
	}{{"maxUnavailable", r.MaxUnavailable}, {"maxSurge", r.MaxSurge}} {
		// Scaled against 100, a number and a percentage both read as a percentage.
		n, err := intstr.GetScaledValueFromIntOrPercent(&f.v, 100, false)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(fldPath.Child(f.name), f.v.String(), "must be a whole number or a percentage such as 25%"))
		case n < 0:
			errs = append(errs, field.Invalid(fldPath.Child(f.name), f.v.String(), msgNotNegative))
		case f.name == "maxUnavailable" && f.v.Type == intstr.String && n > 100:
			errs = append(errs, field.Invalid(fldPath.Child(f.name), f.v.String(), "must not be more than 100%"))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	u, _ := intstr.GetScaledValueFromIntOrPercent(&r.MaxUnavailable, 100, false)
	s, _ := intstr.GetScaledValueFromIntOrPercent(&r.MaxSurge, 100, true)
	if u == 0 && s == 0 {
		errs = append(errs, field.Invalid(fldPath.Child("maxSurge"), r.MaxSurge.String(), "may not be 0 when maxUnavailable is 0"))
	}
	return errs
}

// Values of a topology spread constraint's whenUnsatisfiable.
var whenUnsatisfiableValues = []string{"DoNotSchedule", "ScheduleAnyway"}

// ValidateZoneSpread checks the topology spread constraint across zones.
func ValidateZoneSpread(z ZoneSpread, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if z.TopologyKey == "" {
		errs = append(errs, field.Required(fldPath.Child("topologyKey"), "such as topology.kubernetes.io/zone"))
	}
	if z.MaxSkew < 1 {
		errs = append(errs, field.Invalid(fldPath.Child("maxSkew"), z.MaxSkew, msgAtLeastOne))
	}
	if !slices.Contains(whenUnsatisfiableValues, z.WhenUnsatisfiable) {
		errs = append(errs, field.NotSupported(fldPath.Child("whenUnsatisfiable"), z.WhenUnsatisfiable, whenUnsatisfiableValues))
	}
	return errs
}

// ValidateProbes checks the api's liveness, readiness and startup probes.
func ValidateProbes(p Probes, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, ValidateProbe(p.Liveness, fldPath.Child("liveness"))...)
	errs = append(errs, ValidateProbe(p.Readiness, fldPath.Child("readiness"))...)
	errs = append(errs, ValidateProbe(p.Startup, fldPath.Child("startup"))...)
	return errs
}

// ValidateProbe checks one HTTP probe.
func ValidateProbe(p Probe, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !strings.HasPrefix(p.Path, "/") {
		errs = append(errs, field.Invalid(fldPath.Child("path"), p.Path, "must start with /"))
	}
	if p.Port < 1 || p.Port > 65535 {
		errs = append(errs, field.Invalid(fldPath.Child("port"), p.Port, "must be between 1 and 65535"))
	}
	if p.InitialDelaySeconds < 0 {
		errs = append(errs, field.Invalid(fldPath.Child("initialDelaySeconds"), p.InitialDelaySeconds, msgNotNegative))
	}
	if p.PeriodSeconds < 1 {
		errs = append(errs, field.Invalid(fldPath.Child("periodSeconds"), p.PeriodSeconds, msgAtLeastOne))
	}
	if p.FailureThreshold < 1 {
		errs = append(errs, field.Invalid(fldPath.Child("failureThreshold"), p.FailureThreshold, msgAtLeastOne))
	}
	return errs
}

// ValidateResourceRequest checks the requests filled into the main container.
func ValidateResourceRequest(r ResourceRequest, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validatePositiveQuantity(r.CPU, fldPath.Child("cpu"))...)
	errs = append(errs, validatePositiveQuantity(r.Memory, fldPath.Child("memory"))...)
	return errs
}

// ValidatePreStop checks the preStop hook on its own; that it ends within the
// grace period is ValidateAPIPolicy's check, which sees both.
func ValidatePreStop(p PreStop, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if modes := []string{PreStopExec, PreStopSleep}; !slices.Contains(modes, p.Mode) {
		errs = append(errs, field.NotSupported(fldPath.Child("mode"), p.Mode, modes))
	}
	if p.Seconds < 1 {
		errs = append(errs, field.Invalid(fldPath.Child("seconds"), p.Seconds, msgAtLeastOne))
	}
	return errs
}
