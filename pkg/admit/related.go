package admit

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

var (
	pdbGVK     = policyv1.SchemeGroupVersion.WithKind(rules.KindPodDisruptionBudget)
	hpaGVK     = autoscalingv2.SchemeGroupVersion.WithKind(rules.KindHorizontalPodAutoscaler)
	serviceGVK = corev1.SchemeGroupVersion.WithKind(rules.KindService)
	ingressGVK = networkingv1.SchemeGroupVersion.WithKind(rules.KindIngress)
)

// RelatedKinds are the kinds of the objects that govern or route to a Laminar
// workload, which the related validator judges.
var RelatedKinds = []schema.GroupVersionKind{pdbGVK, hpaGVK, serviceGVK, ingressGVK}

// MutatedRelatedKinds are the related kinds some default fills (the related mutator's).
var MutatedRelatedKinds = []schema.GroupVersionKind{ingressGVK}

// NewRelatedValidator judges the PodDisruptionBudgets, HorizontalPodAutoscalers,
// Services and Ingresses that govern or route to Laminar workloads, found
// through Config.Cluster.
func NewRelatedValidator(c Config) *Handler {
	return c.handler(WebhookValidateRelated, enforcementGate, requestKind, readRelated(c.Cluster, RelatedKinds, validateRelated))
}

// NewRelatedMutator fills the defaults of the objects that route to Laminar
// workloads (an Ingress in front of the api), found through Config.Cluster.
func NewRelatedMutator(c Config) *Handler {
	return c.handler(WebhookMutateRelated, mutationGate, requestKind, readRelated(c.Cluster, MutatedRelatedKinds, mutateRelated))
}

// relatedJudge judges a decoded related object against the workloads it governs.
type relatedJudge func(req admission.Request, gvk schema.GroupVersionKind, obj runtime.Object,
	targets []*workload.Workload) func(v *Verdict, p *policy.Policy, mode string, s rules.Situation)

func readRelated(cluster rules.View, kinds []schema.GroupVersionKind, judge relatedJudge) func(ctx context.Context, req admission.Request) reading {
	return func(ctx context.Context, req admission.Request) reading {
		return relatedReading(ctx, cluster, kinds, judge, req)
	}
}

func relatedReading(ctx context.Context, cluster rules.View, kinds []schema.GroupVersionKind, judge relatedJudge, req admission.Request) reading {
	gvk := schema.GroupVersionKind(req.Kind)
	if !slices.Contains(kinds, gvk) {
		return skipped(fmt.Sprintf("kind %s is not judged", gvk))
	}
	obj, meta, err := decodeRelated(gvk, req.Object.Raw)
	if err != nil {
		return unreadable(err)
	}
	if cluster == nil {
		return skipped("no cluster view: cannot tell which workloads this governs")
	}
	// Updates during deletion only remove finalizers; blocking or patching them
	// would leave the object stuck in Terminating.
	if meta.DeletionTimestamp != nil {
		return skipped("object is being deleted")
	}
	// The rules look in the namespace the API server names (an Ingress's
	// backends are found there), never one the body leaves out.
	if meta.Namespace == "" {
		meta.Namespace = req.Namespace
	}
	ns := meta.Namespace
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
		judge: judge(req, gvk, obj, targets),
	}
}

func validateRelated(req admission.Request, gvk schema.GroupVersionKind, obj runtime.Object,
	targets []*workload.Workload) func(v *Verdict, p *policy.Policy, mode string, s rules.Situation) {
	return func(verdict *Verdict, p *policy.Policy, mode string, s rules.Situation) {
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
	}
}

func mutateRelated(req admission.Request, gvk schema.GroupVersionKind, obj runtime.Object,
	targets []*workload.Workload) func(v *Verdict, p *policy.Policy, mode string, s rules.Situation) {
	return func(v *Verdict, p *policy.Policy, _ string, s rules.Situation) {
		res, err := mutate.Related(obj, req.Object.Raw, gvk.Kind, targets, p, s)
		if err != nil {
			v.Err, v.Code = err, http.StatusInternalServerError
			return
		}
		v.Mutation = &res
	}
}

// governed finds the Laminar workloads the object governs or routes to.
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
	case *corev1.Service:
		return rules.ServiceTargets(ctx, cluster, ns, o)
	case *networkingv1.Ingress:
		targets, _ := rules.IngressTargets(ctx, cluster, ns, o)
		return targets
	}
	return nil
}

// decodeRelated decodes a related object of one of RelatedKinds.
func decodeRelated(gvk schema.GroupVersionKind, raw []byte) (runtime.Object, *metav1.ObjectMeta, error) {
	if len(raw) == 0 {
		return nil, nil, fmt.Errorf("%s: no object in the request", gvk.Kind)
	}
	var obj runtime.Object
	var meta *metav1.ObjectMeta
	switch gvk {
	case pdbGVK:
		o := &policyv1.PodDisruptionBudget{}
		obj, meta = o, &o.ObjectMeta
	case hpaGVK:
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		obj, meta = o, &o.ObjectMeta
	case serviceGVK:
		o := &corev1.Service{}
		obj, meta = o, &o.ObjectMeta
	case ingressGVK:
		o := &networkingv1.Ingress{}
		obj, meta = o, &o.ObjectMeta
	default:
		return nil, nil, fmt.Errorf("%s: not a related kind", gvk)
	}
	if err := kubejson.Unmarshal(raw, obj); err != nil {
		return nil, nil, fmt.Errorf("%s: object does not fit %s: %w", gvk.Kind, gvk.GroupVersion(), err)
	}
	return obj, meta, nil
}
