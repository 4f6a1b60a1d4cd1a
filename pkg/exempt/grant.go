package exempt

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The permission that grants an exemption: a verb on a virtual resource, asked
// of the API server's authorizer, so that platform teams hand it out with the
// RoleBindings and ClusterRoleBindings they already use.
const (
	PermissionGroup    = "ha.laminar.io"
	PermissionResource = "exemptions"
	PermissionVerb     = "grant"
	// GranterRole is the shipped ClusterRole that holds it.
	GranterRole = "laminar-ha-exemption-granter"
)

// PermissionText names the permission in messages and docs.
const PermissionText = PermissionVerb + " on " + PermissionResource + "." + PermissionGroup

// Granting reports whether this write grants an exemption: the annotations ask
// for one and old (nil on CREATE, or when the old object was not judged) did
// not ask for it in the same words. Removing an exemption, or leaving it as
// it was, grants nothing.
func Granting(annotations, old map[string]string) bool {
	if !Read(annotations).Requested() {
		return false
	}
	for _, k := range []string{AnnotationRules, AnnotationReason, AnnotationUntil} {
		v, ok := annotations[k]
		ov, oldOK := old[k]
		if ok != oldOK || v != ov {
			return true
		}
	}
	return false
}

// ValidateGranted judges the answer to "may this user grant an exemption in
// namespace?": allowed, or the error that kept it from being asked. An
// exemption nobody was allowed to grant is refused, never waved through.
func ValidateGranted(e Exemption, user, namespace string, allowed bool, err error) field.ErrorList {
	if !e.Requested() || (allowed && err == nil) {
		return nil
	}
	if err != nil {
		return field.ErrorList{field.Forbidden(Path(AnnotationRules), fmt.Sprintf(
			"granting an exemption needs %s in namespace %s, which could not be checked (%v), so the exemption is refused; fix: apply again",
			PermissionText, namespace, err))}
	}
	return field.ErrorList{field.Forbidden(Path(AnnotationRules), fmt.Sprintf(
		"granting an exemption needs %s in namespace %s, and %s does not have it; fix: ask a platform admin to grant it (RoleBinding to ClusterRole %s) or to apply the exemption, or remove the ha.laminar.io/exempt annotations",
		PermissionText, namespace, user, GranterRole))}
}

// ValidateMaxDuration bounds how far ahead of now a granted exemption may run
// (the policy's exemptions.maxDuration; zero is no bound). An exemption without
// an expiry is unbounded, so under a bound it must name one.
func ValidateMaxDuration(e Exemption, limit time.Duration, now time.Time) field.ErrorList {
	if !e.Requested() || limit <= 0 {
		return nil
	}
	latest := now.Add(limit).UTC().Truncate(time.Second)
	fix := fmt.Sprintf("fix: set %s no later than %s", AnnotationUntil, latest.Format(time.RFC3339))
	switch {
	case e.UntilText == "":
		return field.ErrorList{field.Required(Path(AnnotationUntil), fmt.Sprintf(
			"the policy limits exemptions to %s (exemptions.maxDuration), so an exemption must say when it ends; %s", limit, fix))}
	case e.Until == nil:
		return nil // unreadable: exemption-until says so
	case e.Until.After(now.Add(limit)):
		return field.ErrorList{field.Invalid(Path(AnnotationUntil), e.UntilText, fmt.Sprintf(
			"is further ahead than the policy's limit of %s (exemptions.maxDuration); %s", limit, fix))}
	}
	return nil
}
