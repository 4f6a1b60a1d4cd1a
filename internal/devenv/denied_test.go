package devenv

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestDeniedByRule(t *testing.T) {
	gk := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	invalid := apierrors.NewInvalid(gk, "laminar-api", field.ErrorList{
		field.Invalid(field.NewPath("spec", "replicas"), 1, "[replicas-min] a Laminar api needs at least 2 replicas"),
	})
	assert.True(t, DeniedByRule(invalid, "replicas-min"))
	assert.False(t, DeniedByRule(invalid, "replicas"), "a rule ID is matched whole, in brackets")
	assert.False(t, DeniedByRule(invalid, "api-zone-spread"))
	assert.False(t, DeniedByRule(apierrors.NewForbidden(schema.GroupResource{Resource: "deployments"}, "x", errors.New("[replicas-min]")), "replicas-min"),
		"only an Invalid error is a denial")
	assert.False(t, DeniedByRule(&apierrors.StatusError{ErrStatus: metav1.Status{Reason: metav1.StatusReasonInvalid}}, "replicas-min"), "no details")
	assert.False(t, DeniedByRule(nil, "replicas-min"))
	assert.False(t, DeniedByRule(errors.New("[replicas-min]"), "replicas-min"))
}
