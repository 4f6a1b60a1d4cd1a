package rules

import "context"

// Authorizer answers whether the user making the request may do verb on the
// virtual resource resource.ha.laminar.io in namespace. The webhook asks the
// API server's authorizer (a SubjectAccessReview for the request's user).
//
// It is nil where no user is known — the offline check, which cannot know who
// will apply its input, and the judgement of an old object for ratcheting —
// and the permission checks then pass; the cluster judges them on apply.
type Authorizer interface {
	Allowed(ctx context.Context, verb, resource, namespace string) (bool, error)
	// User names the requester in messages.
	User() string
}
