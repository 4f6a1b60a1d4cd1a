package cluster

import (
	"context"
	"fmt"
	"maps"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"

	"github.com/laminar/ha-webhook/pkg/admit"
)

var _ admit.AccessReviewer = (*AccessReviewer)(nil)

// AccessReviewer asks the API server's authorizer about the user of an
// admission request with a SubjectAccessReview. It is not cached: it is asked
// only when an exemption is granted, which is rare, and an answer must follow a
// RoleBinding removed a moment ago.
type AccessReviewer struct {
	client authorizationclient.SubjectAccessReviewInterface
}

// NewAccessReviewer builds the reviewer; the webhook's identity needs create on
// subjectaccessreviews.authorization.k8s.io.
func NewAccessReviewer(cfg *rest.Config) (*AccessReviewer, error) {
	c, err := authorizationclient.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("access reviews: %w", err)
	}
	return &AccessReviewer{client: c.SubjectAccessReviews()}, nil
}

// Review implements admit.AccessReviewer.
func (a *AccessReviewer) Review(ctx context.Context, user authenticationv1.UserInfo, verb, group, resource, namespace string) (bool, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range maps.All(user.Extra) {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review, err := a.client.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Group: group, Resource: resource},
	}}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("SubjectAccessReview: %w", err)
	}
	// An evaluation error beside a "no" (a binding to a missing role, say) is
	// still a no: the authorizer decided.
	return review.Status.Allowed, nil
}
