package admit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

var (
	pdbGVK = policyv1.SchemeGroupVersion.WithKind(rules.KindPodDisruptionBudget)
	hpaGVK = autoscalingv2.SchemeGroupVersion.WithKind(rules.KindHorizontalPodAutoscaler)
)

// RelatedValidator judges PodDisruptionBudgets and HorizontalPodAutoscalers that
// govern Laminar workloads, found through the cluster cache.
type RelatedValidator struct {
	Policy     PolicySource
	Namespaces Namespaces
	Cluster    rules.View
}

// Handle implements admission.Handler.
func (v *RelatedValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	gvk := schema.GroupVersionKind(req.Kind)
	skip := func(msg string) admission.Response {
		observe("validate-related", gvk.Kind, "", metrics.OutcomeSkipped, start)
		return admission.Allowed(msg)
	}
	if req.Operation != admissionv1.Update && req.Operation != admissionv1.Create {
		return skip(fmt.Sprintf("operation %s is not judged", req.Operation))
	}
	if gvk != pdbGVK && gvk != hpaGVK {
		return skip(fmt.Sprintf("kind %s is not judged", gvk))
	}
	obj, meta, err := decodeRelated(gvk, req.Object.Raw)
	if err != nil {
		observe("validate-related", gvk.Kind, "", metrics.OutcomeError, start)
		return admission.Errored(http.StatusBadRequest, err)
	}
	if v.Cluster == nil {
		return skip("no cluster view: cannot tell which workloads this governs")
	}
	ns := meta.Namespace
	if ns == "" {
		ns = req.Namespace
	}
	targets := v.targets(ctx, obj, ns)
	if len(targets) == 0 {
		return skip("governs no Laminar workload")
	}
	var old runtime.Object
	if req.Operation == admissionv1.Update {
		old, _, _ = decodeRelated(gvk, req.OldObject.Raw)
	}
	p := v.Policy()
	role := string(targets[0].Role)
	mode, note, audit, off := enforcement(ctx, v.Namespaces, p, ns, "validate-related", gvk.Kind, role, start)
	if off != nil {
		return *off
	}
	c := validate.Context{Mode: mode, Now: exempt.Now(), Ctx: ctx}
	var d validate.Decision
	exemption := map[string]string{}
	for _, t := range targets {
		d.Findings = append(d.Findings, validate.JudgeRelated(obj, old, gvk.Kind, t, p, c).Findings...)
		for k, val := range t.Meta.Annotations {
			exemption[k] = val
		}
	}
	name := meta.Name
	if name == "" {
		name = req.Name
	}
	return respond(ctx, req, verdict{webhook: "validate-related", kind: gvk.Kind, role: role, mode: mode, gk: gvk.GroupKind(), name: name,
		exemption: exemption, decision: d, note: note, audit: audit, start: start})
}

// targets finds the Laminar workloads the object governs.
func (v *RelatedValidator) targets(ctx context.Context, obj runtime.Object, ns string) []*workload.Workload {
	switch o := obj.(type) {
	case *policyv1.PodDisruptionBudget:
		if o.Spec.Selector == nil {
			return nil
		}
		sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
		if err != nil {
			return nil
		}
		return v.Cluster.WorkloadsSelected(ctx, ns, sel)
	case *autoscalingv2.HorizontalPodAutoscaler:
		ref := o.Spec.ScaleTargetRef
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != "apps" {
			return nil
		}
		if w, ok := v.Cluster.Workload(ctx, ref.Kind, ns, ref.Name); ok {
			return []*workload.Workload{w}
		}
	}
	return nil
}

func decodeRelated(gvk schema.GroupVersionKind, raw []byte) (runtime.Object, *metav1.ObjectMeta, error) {
	if len(raw) == 0 {
		return nil, nil, fmt.Errorf("%s: no object in the request", gvk.Kind)
	}
	if gvk == pdbGVK {
		var pdb policyv1.PodDisruptionBudget
		if err := json.Unmarshal(raw, &pdb); err != nil {
			return nil, nil, fmt.Errorf("%s: object does not fit %s: %w", gvk.Kind, gvk.GroupVersion(), err)
		}
		return &pdb, &pdb.ObjectMeta, nil
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := json.Unmarshal(raw, &hpa); err != nil {
		return nil, nil, fmt.Errorf("%s: object does not fit %s: %w", gvk.Kind, gvk.GroupVersion(), err)
	}
	return &hpa, &hpa.ObjectMeta, nil
}
