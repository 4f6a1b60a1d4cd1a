package policy

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateControllerPolicy checks what the controller StatefulSet gets and must keep.
func ValidateControllerPolicy(c ControllerPolicy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, ValidateReplicas(c.Replicas, fldPath.Child("replicas"))...)
	errs = append(errs, ValidateRequiredAntiAffinity(c.AntiAffinity, fldPath.Child("antiAffinity"))...)
	errs = append(errs, ValidateZoneSpread(c.ZoneSpread, fldPath.Child("zoneSpread"))...)
	errs = append(errs, ValidateLeaderElection(c.LeaderElection, fldPath.Child("leaderElection"))...)
	errs = append(errs, ValidateStorage(c.Storage, fldPath.Child("storage"))...)
	errs = append(errs, ValidateCheckpoints(c.Checkpoints, fldPath.Child("checkpoints"))...)
	errs = append(errs, ValidateControllerSettings(c.Settings, fldPath.Child("settings"))...)
	return errs
}

// flagName is a flag as written after its dashes: a leading dash would make
// "--" + name a different flag, and "=" or a space would split it.
var flagName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidateControllerSettings checks the flag and variable names: each well
// formed, and no two settings sharing one, since a value could then not be
// told apart.
func ValidateControllerSettings(s ControllerSettings, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	flags, envs := map[string]string{}, map[string]string{}
	for _, f := range []struct {
		name string
		s    Setting
	}{
		{"leaderElect", s.LeaderElect},
		{"leaseDuration", s.LeaseDuration},
		{"renewDeadline", s.RenewDeadline},
		{"retryPeriod", s.RetryPeriod},
		{"checkpointURL", s.CheckpointURL},
		{"checkpointInterval", s.CheckpointInterval},
		{"artifactsURL", s.ArtifactsURL},
	} {
		p := fldPath.Child(f.name)
		switch {
		case f.s.Flag == "":
			errs = append(errs, field.Required(p.Child("flag"), "name the flag, without dashes"))
		case !flagName.MatchString(f.s.Flag):
			errs = append(errs, field.Invalid(p.Child("flag"), f.s.Flag, "must be a flag name without dashes: letters, digits, '.', '_' or '-', not starting with '-'"))
		case flags[f.s.Flag] != "":
			errs = append(errs, field.Duplicate(p.Child("flag"), f.s.Flag+" (also "+flags[f.s.Flag]+")"))
		default:
			flags[f.s.Flag] = f.name
		}
		switch {
		case f.s.Env == "":
			errs = append(errs, field.Required(p.Child("env"), "name the environment variable"))
		case len(validation.IsEnvVarName(f.s.Env)) > 0:
			errs = append(errs, field.Invalid(p.Child("env"), f.s.Env, strings.Join(validation.IsEnvVarName(f.s.Env), "; ")))
		case envs[f.s.Env] != "":
			errs = append(errs, field.Duplicate(p.Child("env"), f.s.Env+" (also "+envs[f.s.Env]+")"))
		default:
			envs[f.s.Env] = f.name
		}
	}
	return errs
}

// ValidateLeaderElection checks the three timings together, as client-go does;
// the error names the group, since no single value is the wrong one.
func ValidateLeaderElection(le LeaderElection, fldPath *field.Path) field.ErrorList {
	lease, renew, retry := le.LeaseDuration.Duration, le.RenewDeadline.Duration, le.RetryPeriod.Duration
	if msg := LeaderElectionTimingError(lease, renew, retry); msg != "" {
		return field.ErrorList{field.Invalid(fldPath, fmt.Sprintf("%s/%s/%s", lease, renew, retry), msg)}
	}
	return nil
}

// LeaderElectionTimingError applies client-go's own constraints on leader-election
// timings and says what is wrong, or returns "" when they hold.
func LeaderElectionTimingError(lease, renew, retry time.Duration) string {
	switch {
	case retry <= 0:
		return "retry period must be positive"
	case lease <= renew:
		return fmt.Sprintf("lease duration (%s) must be greater than renew deadline (%s)", lease, renew)
	case float64(renew) <= 1.2*float64(retry):
		return fmt.Sprintf("renew deadline (%s) must be greater than 1.2 × retry period (%s)", renew, retry)
	}
	return ""
}

// ValidateStorage checks what RocksDB's volume must be.
func ValidateStorage(s Storage, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	classes := fldPath.Child("fastStorageClasses")
	if len(s.FastStorageClasses) == 0 {
		errs = append(errs, field.Required(classes, "name at least one storage class RocksDB may use"))
	}
	for i, c := range s.FastStorageClasses {
		if strings.TrimSpace(c) == "" {
			errs = append(errs, field.Invalid(classes.Index(i), c, "must not be empty"))
		}
	}
	errs = append(errs, validatePositiveQuantity(s.MinSize, fldPath.Child("minSize"))...)
	return errs
}

// ValidateCheckpoints checks where RocksDB backups may go and how often.
func ValidateCheckpoints(c Checkpoints, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	schemes := fldPath.Child("schemes")
	if len(c.Schemes) == 0 {
		errs = append(errs, field.Required(schemes, "name at least one object-store URL scheme, such as s3"))
	}
	for i, s := range c.Schemes {
		// file:// is local disk, which a lost node takes with it.
		if s == "" || s == "file" || strings.ContainsAny(s, ":/") {
			errs = append(errs, field.Invalid(schemes.Index(i), s, "must be a bare URL scheme of durable object storage, such as s3"))
		}
	}
	if c.MaxInterval.Duration <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("maxInterval"), c.MaxInterval.Duration.String(), "must be positive"))
	}
	return errs
}
