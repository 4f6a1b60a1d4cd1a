package admit

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-openapi/jsonpointer"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// WebhookStampNamespace is the namespace stamper's name in logs.
const WebhookStampNamespace = "stamp-namespace"

// NewNamespaceStamper records on a Namespace when its enforcement is switched
// back on from off (annotation policy.AnnotationEnforcedSince, the time of the
// switch). Objects written while it was off were never judged; the validating
// webhooks read the annotation so that those objects' violations never become
// a ratchet baseline. It is called only for updates that change the
// ha.laminar.io/enforce label (matchConditions) and fails closed, so
// enforcement cannot come back on unrecorded.
func NewNamespaceStamper(c Config) admission.Handler {
	return admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		if req.Kind.Kind != "Namespace" || req.Kind.Group != "" || req.Operation != admissionv1.Update {
			return admission.Allowed("not a Namespace update")
		}
		var ns, old metav1.PartialObjectMetadata
		if err := kubejson.Unmarshal(req.Object.Raw, &ns); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("namespace: %w", err))
		}
		if err := kubejson.Unmarshal(req.OldObject.Raw, &old); err != nil || len(req.OldObject.Raw) == 0 {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("namespace: no readable oldObject: %v", err))
		}
		p := c.Policy()
		was, _ := p.EnforceMode(old.Labels)
		is, _ := p.EnforceMode(ns.Labels)
		if was != policy.ModeOff || is == policy.ModeOff {
			return admission.Allowed("enforcement not switched back on")
		}
		since := c.Clock.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
		var op jsonpatch.Operation
		if ns.Annotations == nil {
			op = jsonpatch.NewOperation("add", "/metadata/annotations", map[string]string{policy.AnnotationEnforcedSince: since})
		} else {
			op = jsonpatch.NewOperation("add", "/metadata/annotations/"+jsonpointer.Escape(policy.AnnotationEnforcedSince), since)
		}
		return admission.Patched("enforcement switched back on at "+since, op)
	})
}
