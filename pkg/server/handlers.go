package server

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Paths the webhook configurations call.
const (
	MutatePath          = "/mutate"
	ValidatePath        = "/validate"
	ValidateScalePath   = "/validate-scale"
	ValidateRelatedPath = "/validate-related"
	MutateRelatedPath   = "/mutate-related"
	StampNamespacePath  = "/stamp-namespace"
)

// Paths lists every webhook path, in the order they are registered.
var Paths = []string{MutatePath, ValidatePath, ValidateScalePath, ValidateRelatedPath, MutateRelatedPath, StampNamespacePath}

// Handlers returns the admission handler served at each of Paths, exactly as
// the server wires them (fuzz tests drive these).
func Handlers(o Options) map[string]admission.Handler {
	c := admit.Config{Policy: o.Policy, Namespaces: o.Namespaces, Cluster: o.Cluster, Access: o.Access, Nodes: o.Nodes}
	return map[string]admission.Handler{
		MutatePath:          wellFormed(admit.NewMutator(c)),
		ValidatePath:        wellFormed(admit.NewValidator(c)),
		ValidateScalePath:   wellFormed(admit.NewScaleValidator(c)),
		ValidateRelatedPath: wellFormed(admit.NewRelatedValidator(c)),
		MutateRelatedPath:   wellFormed(admit.NewRelatedMutator(c)),
		StampNamespacePath:  wellFormed(admit.NewNamespaceStamper(c)),
	}
}

// wellFormed answers 400 to a review the API server never sends — no request,
// no uid, no kind or resource, an unknown operation — instead of letting a
// handler read it as "not a judged kind or operation" and allow it.
func wellFormed(next admission.Handler) admission.Handler {
	return admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		var problem string
		switch {
		case req.UID == "":
			problem = "no request.uid (is request null or missing?)"
		case req.Kind.Kind == "" || req.Kind.Version == "":
			problem = "no request.kind"
		case req.Resource.Resource == "" || req.Resource.Version == "":
			problem = "no request.resource"
		}
		if problem == "" {
			switch req.Operation {
			case admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect:
			default:
				problem = fmt.Sprintf("unknown request.operation %q", req.Operation)
			}
		}
		if problem != "" {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("malformed AdmissionReview: %s", problem))
		}
		return next.Handle(ctx, req)
	})
}

// ObjectsDecodedInPass is, for the webhooks that judge Deployments and
// StatefulSets, the typed objects review.Handler decodes their objects into
// within its pass over the review, so that they are not scanned twice; nil for
// the others, whose objects stay bytes.
func ObjectsDecodedInPass(path string) func(schema.GroupVersionKind) runtime.Object {
	switch path {
	case MutatePath, ValidatePath:
		return workload.New
	}
	return nil
}
