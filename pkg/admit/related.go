package admit

import (
	"context"
	"fmt"
	"maps"

	admissionv1 "k8s.io/api/admission/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

var (
	pdbGVK = policyv1.SchemeGroupVersion.WithKind(rules.KindPodDisruptionBudget)
	hpaGVK = autoscalingv2.SchemeGroupVersion.WithKind(rules.KindHorizontalPodAutoscaler)
)

// NewRelatedValidator judges PodDisruptionBudgets and HorizontalPodAutoscalers
// that govern Laminar workloads, found through Config.Cluster.
func NewRelatedValidator(c Config) *Handler {
	return c.handler(WebhookValidateRelated, enforcementGate, requestKind, readRelated(c.Cluster))
}

func readRelated(cluster rules.View) func(ctx context.Context, req admission.Request) reading {
	return func(ctx context.Context, req admission.Request) reading {
		return relatedReading(ctx, cluster, req)
	}
}

func relatedReading(ctx context.Context, cluster rules.View, req admission.Request) reading {
	gvk := schema.GroupVersionKind(req.Kind)
	if gvk != pdbGVK && gvk != hpaGVK {
		return skipped(fmt.Sprintf("kind %s is not judged", gvk))
	}
	obj, meta, err := decodeRelated(gvk, req.Object.Raw)
	if err != nil {
		return unreadable(err)
	}
	if cluster == nil {
		return skipped("no cluster view: cannot tell which workloads this governs")
	}
	ns := meta.Namespace
	if ns == "" {
		ns = req.Namespace
	}
	targets := governed(ctx, cluster, obj, ns)
	if len(targets) == 0 {
		return skipped("governs no Laminar workload")
	}
	name := meta.Name
	if name == "" {
		name = req.Name
	}
	// The log names the exemptions of every workload governed.
	annotations := map[string]string{}
	for _, t := range targets {
		maps.Copy(annotations, t.Meta.Annotations)
	}
	return reading{
		subject: Subject{Kind: gvk.Kind, Role: targets[0].Role, GroupKind: gvk.GroupKind(), Name: name,
			Namespace: ns, Exemption: exempt.Read(annotations)},
		judge: func(verdict *Verdict, p *policy.Policy, mode string, s rules.Situation) {
			var old runtime.Object
			if req.Operation == admissionv1.Update {
				old, _, _ = decodeRelated(gvk, req.OldObject.Raw)
			}
			c := validate.Context{Mode: mode, Situation: s}
			var d validate.Decision
			for _, t := range targets {
				d.Findings = append(d.Findings, validate.JudgeRelated(obj, old, gvk.Kind, t, p, c).Findings...)
			}
			verdict.Decision = &d
		},
	}
}

// governed finds the Laminar workloads the object governs.
func governed(ctx context.Context, cluster rules.View, obj runtime.Object, ns string) []*workload.Workload {
	switch o := obj.(type) {
	case *policyv1.PodDisruptionBudget:
		if o.Spec.Selector == nil {
			return nil
		}
		sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
		if err != nil {
			return nil
		}
		return cluster.WorkloadsSelected(ctx, ns, sel)
	case *autoscalingv2.HorizontalPodAutoscaler:
		ref := o.Spec.ScaleTargetRef
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != "apps" {
			return nil
		}
		if w, ok := cluster.Workload(ctx, ref.Kind, ns, ref.Name); ok {
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
		if err := kubejson.Unmarshal(raw, &pdb); err != nil {
			return nil, nil, fmt.Errorf("%s: object does not fit %s: %w", gvk.Kind, gvk.GroupVersion(), err)
		}
		return &pdb, &pdb.ObjectMeta, nil
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := kubejson.Unmarshal(raw, &hpa); err != nil {
		return nil, nil, fmt.Errorf("%s: object does not fit %s: %w", gvk.Kind, gvk.GroupVersion(), err)
	}
	return &hpa, &hpa.ObjectMeta, nil
}
