package devenv

import (
	"errors"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// DeniedByRule reports whether err is the webhook's Invalid error with a cause
// tagged [ruleID].
func DeniedByRule(err error, ruleID string) bool {
	var st *apierrors.StatusError
	if !errors.As(err, &st) || !apierrors.IsInvalid(err) || st.ErrStatus.Details == nil {
		return false
	}
	for _, c := range st.ErrStatus.Details.Causes {
		if strings.Contains(c.Message, "["+ruleID+"]") {
			return true
		}
	}
	return false
}
