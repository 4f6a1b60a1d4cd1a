package admit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// replicaRules judge a scale request: the same rules, and so the same messages,
// as an edit of spec.replicas.
var replicaRules = []string{"replicas-min", "replicas-recommended"}

// ScaleValidator judges writes to the scale subresource of Deployments and
// StatefulSets (kubectl scale, autoscalers). A Scale carries none of its parent's
// labels, so the parent is looked up in the cluster cache.
type ScaleValidator struct {
	Policy     PolicySource
	Namespaces Namespaces
	Cluster    rules.View
}

// Handle implements admission.Handler.
func (v *ScaleValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	skip := func(msg string) admission.Response {
		observe("validate-scale", "Scale", "", metrics.OutcomeSkipped, start)
		return admission.Allowed(msg)
	}
	if req.Operation != admissionv1.Update && req.Operation != admissionv1.Create {
		return skip(fmt.Sprintf("operation %s is not judged", req.Operation))
	}
	var kind string
	switch {
	case req.SubResource != "scale" || req.Resource.Group != "apps":
		return skip(fmt.Sprintf("%s/%s is not judged", req.Resource.Resource, req.SubResource))
	case req.Resource.Resource == "deployments":
		kind = workload.KindDeployment
	case req.Resource.Resource == "statefulsets":
		kind = workload.KindStatefulSet
	default:
		return skip(fmt.Sprintf("%s/%s is not judged", req.Resource.Resource, req.SubResource))
	}
	var scale autoscalingv1.Scale
	if len(req.Object.Raw) == 0 {
		observe("validate-scale", "Scale", "", metrics.OutcomeError, start)
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("Scale: no object in the request"))
	}
	if err := json.Unmarshal(req.Object.Raw, &scale); err != nil {
		observe("validate-scale", "Scale", "", metrics.OutcomeError, start)
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("Scale: object does not fit autoscaling/v1 Scale: %w", err))
	}
	if v.Cluster == nil {
		return skip("no cluster view: scale requests cannot be matched to a workload")
	}
	parent, ok := v.Cluster.Workload(ctx, kind, req.Namespace, req.Name)
	if !ok {
		return skip("not a Laminar workload")
	}
	role := string(parent.Role)
	p := v.Policy()
	mode, note, audit, off := enforcement(ctx, v.Namespaces, p, req.Namespace, "validate-scale", kind, role, start)
	if off != nil {
		return *off
	}
	c := validate.Context{Mode: mode, Now: exempt.Now(), Ctx: ctx, Only: replicaRules}
	var old autoscalingv1.Scale
	if req.Operation == admissionv1.Update && json.Unmarshal(req.OldObject.Raw, &old) == nil && len(req.OldObject.Raw) > 0 {
		c.Old = parent.WithReplicas(old.Spec.Replicas)
	}
	target := parent.WithReplicas(scale.Spec.Replicas)
	d := validate.Judge(target, p, c)
	return respond(ctx, req, verdict{webhook: "validate-scale", kind: kind, role: role, mode: mode, gk: parent.GroupKind(), name: req.Name,
		exemption: parent.Meta.Annotations, decision: d, note: note, audit: audit, start: start})
}
