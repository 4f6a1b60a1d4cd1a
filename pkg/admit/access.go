package admit

import (
	"context"
	"errors"

	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// AccessReviewer asks the API server's authorizer whether user may do verb on
// group/resource in namespace (a SubjectAccessReview, pkg/cluster).
type AccessReviewer interface {
	Review(ctx context.Context, user authenticationv1.UserInfo, verb, group, resource, namespace string) (bool, error)
}

// Unchecked is Config.Access for the offline check: it knows no requester, so
// permission checks pass and the cluster judges them when the files are applied.
var Unchecked AccessReviewer = unchecked{}

type unchecked struct{}

func (unchecked) Review(context.Context, authenticationv1.UserInfo, string, string, string, string) (bool, error) {
	return true, nil
}

// errNoAccessReview is why a permission is refused when the webhook cannot ask.
var errNoAccessReview = errors.New("the webhook has no cluster access to ask the API server")

// authorizer binds the request's user to the reviewer for the rules.
func (c Config) authorizer(req admission.Request) rules.Authorizer {
	if c.Access == Unchecked {
		return nil
	}
	return requester{access: c.Access, user: req.UserInfo}
}

type requester struct {
	access AccessReviewer
	user   authenticationv1.UserInfo
}

func (r requester) Allowed(ctx context.Context, verb, resource, namespace string) (bool, error) {
	if r.access == nil {
		return false, errNoAccessReview
	}
	return r.access.Review(ctx, r.user, verb, exempt.PermissionGroup, resource, namespace)
}

func (r requester) User() string {
	if r.user.Username == "" {
		return "the requesting user"
	}
	return r.user.Username
}
