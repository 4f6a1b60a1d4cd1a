package cluster

import (
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// stored is an object as the cache keeps it when a form of its own is much
// smaller than the typed object: the workloads, budgets and autoscalers, of
// which a cluster has thousands. A slimmed appsv1.Deployment is still a
// 1,232-byte struct (1,312 for a StatefulSet), nearly all of it the empty pod
// spec and status, and a Go map of two labels about 460 bytes; at 10,000
// workloads those were the largest items of the webhook's live heap
// (docs/performance.md, "Scale with the cluster").
//
// Each form keeps its metadata as storedMeta and is a
// metav1.ObjectMetaAccessor through it, which is all the informer needs of
// what it stores (meta.Accessor: its keys and namespace index). It is no
// runtime.Object, so controller-runtime's reader cannot hand it out: every
// read of the stores goes through typedCopy, which rebuilds the slimmed typed
// object the rules read, and the reads that select match in place and
// rebuild only what they return.
type stored interface {
	metav1.ObjectMetaAccessor
	// object is the slimmed typed object it was stored from, with its kind
	// set, as a copy: what a reader does with it changes nothing cached.
	object() client.Object
}

var (
	_ stored = (*storedWorkload)(nil)
	_ stored = (*storedBudget)(nil)
	_ stored = (*storedAutoscaler)(nil)
)

// storedMeta is the metadata slim keeps of an object of these kinds
// (slimMeta: no labels of its own), in 96 bytes: a metav1.ObjectMeta is 232,
// most of them fields slim empties.
type storedMeta struct {
	name, namespace, resourceVersion string
	uid                              types.UID
	created                          metav1.Time
	annotations                      map[string]string
}

func metaOf(m *metav1.ObjectMeta) storedMeta {
	return storedMeta{name: m.Name, namespace: m.Namespace, resourceVersion: m.ResourceVersion, uid: m.UID,
		created: m.CreationTimestamp, annotations: m.Annotations}
}

// GetObjectMeta implements metav1.ObjectMetaAccessor for the informer, which
// reads it once or twice per event and changes nothing: its annotations are
// not copied.
func (m *storedMeta) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: m.name, Namespace: m.namespace, ResourceVersion: m.resourceVersion, UID: m.uid,
		CreationTimestamp: m.created, Annotations: m.annotations}
}

// objectMeta is the metadata as a reader gets it, a copy.
func (m *storedMeta) objectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.name, Namespace: m.namespace, ResourceVersion: m.resourceVersion, UID: m.uid,
		CreationTimestamp: *m.created.DeepCopy(), Annotations: maps.Clone(m.annotations)}
}

// storedWorkload is a Deployment or StatefulSet: 168 bytes, its pod labels as
// pairs.
type storedWorkload struct {
	storedMeta
	// kind is workload.KindDeployment or workload.KindStatefulSet.
	kind       string
	replicas   *int32
	podLabels  labelPairs
	containers []corev1.Container
}

// storedBudget is a PodDisruptionBudget: 168 bytes, its selector's labels as
// pairs.
type storedBudget struct {
	storedMeta
	// hasSelector tells a missing selector (selects no pod) from an empty one
	// (selects every pod of the namespace).
	hasSelector bool
	// invalid is a selector metav1.LabelSelectorAsSelector refuses: it selects
	// nothing, as it did typed.
	invalid          bool
	matchLabels      labelPairs
	matchExpressions []metav1.LabelSelectorRequirement
	minAvailable     *intstr.IntOrString
	maxUnavailable   *intstr.IntOrString
}

// storedAutoscaler is a HorizontalPodAutoscaler: 160 bytes.
type storedAutoscaler struct {
	storedMeta
	target      autoscalingv2.CrossVersionObjectReference
	minReplicas *int32
	maxReplicas int32
}

// store turns an object of a kind that has a stored form into it; ok is false
// for any other object. Given a stored form, it returns it.
func store(obj any) (s stored, ok bool) {
	switch o := obj.(type) {
	case stored:
		return o, true
	case *appsv1.Deployment:
		return &storedWorkload{storedMeta: metaOf(&o.ObjectMeta), kind: workload.KindDeployment, replicas: o.Spec.Replicas,
			podLabels: pairsOf(o.Spec.Template.Labels), containers: o.Spec.Template.Spec.Containers}, true
	case *appsv1.StatefulSet:
		return &storedWorkload{storedMeta: metaOf(&o.ObjectMeta), kind: workload.KindStatefulSet, replicas: o.Spec.Replicas,
			podLabels: pairsOf(o.Spec.Template.Labels), containers: o.Spec.Template.Spec.Containers}, true
	case *policyv1.PodDisruptionBudget:
		b := &storedBudget{storedMeta: metaOf(&o.ObjectMeta), minAvailable: o.Spec.MinAvailable, maxUnavailable: o.Spec.MaxUnavailable}
		if sel := o.Spec.Selector; sel != nil {
			_, err := metav1.LabelSelectorAsSelector(sel)
			b.hasSelector, b.invalid = true, err != nil
			b.matchLabels, b.matchExpressions = pairsOf(sel.MatchLabels), sel.MatchExpressions
		}
		return b, true
	case *autoscalingv2.HorizontalPodAutoscaler:
		return &storedAutoscaler{storedMeta: metaOf(&o.ObjectMeta), target: o.Spec.ScaleTargetRef,
			minReplicas: o.Spec.MinReplicas, maxReplicas: o.Spec.MaxReplicas}, true
	}
	return nil, false
}

func (s *storedWorkload) object() client.Object {
	meta := s.objectMeta()
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: s.podLabels.toMap()}}
	for i := range s.containers {
		template.Spec.Containers = append(template.Spec.Containers, *s.containers[i].DeepCopy())
	}
	typeMeta := metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: s.kind}
	if s.kind == workload.KindStatefulSet {
		return &appsv1.StatefulSet{TypeMeta: typeMeta, ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: copyOf(s.replicas), Template: template}}
	}
	return &appsv1.Deployment{TypeMeta: typeMeta, ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{Replicas: copyOf(s.replicas), Template: template}}
}

func (b *storedBudget) object() client.Object {
	out := &policyv1.PodDisruptionBudget{TypeMeta: metav1.TypeMeta{APIVersion: policyv1.SchemeGroupVersion.String(), Kind: "PodDisruptionBudget"},
		ObjectMeta: b.objectMeta(), Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: copyOf(b.minAvailable), MaxUnavailable: copyOf(b.maxUnavailable)}}
	if b.hasSelector {
		out.Spec.Selector = (&metav1.LabelSelector{MatchLabels: b.matchLabels.toMap(), MatchExpressions: b.matchExpressions}).DeepCopy()
	}
	return out
}

// selects tells whether the budget selects pods with these labels, exactly as
// metav1.LabelSelectorAsSelector over its typed selector does (in policy/v1 an
// empty selector selects every pod in the namespace, a missing one none),
// without rebuilding it when it has only labels to match, as nearly every
// budget has.
func (b *storedBudget) selects(podLabels map[string]string) bool {
	if !b.hasSelector || b.invalid {
		return false
	}
	if len(b.matchExpressions) == 0 {
		return b.matchLabels.within(podLabels)
	}
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: b.matchLabels.toMap(), MatchExpressions: b.matchExpressions})
	return err == nil && sel.Matches(labels.Set(podLabels))
}

func (a *storedAutoscaler) object() client.Object {
	return &autoscalingv2.HorizontalPodAutoscaler{TypeMeta: metav1.TypeMeta{APIVersion: autoscalingv2.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: a.objectMeta(), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: a.target, MinReplicas: copyOf(a.minReplicas), MaxReplicas: a.maxReplicas}}
}

func copyOf[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// labelPairs is a label map as its keys and values, key after value, sorted
// by key: a sixth of a small Go map's size. It is a labels.Labels, so
// selectors match it in place. nil is no map, an empty slice an empty one.
type labelPairs []string

var _ labels.Labels = labelPairs(nil)

func pairsOf(m map[string]string) labelPairs {
	if m == nil {
		return nil
	}
	p := make(labelPairs, 0, 2*len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p = append(p, k, m[k])
	}
	return p
}

// Lookup implements labels.Labels.
func (p labelPairs) Lookup(key string) (string, bool) {
	for i := 0; i+1 < len(p); i += 2 {
		if p[i] == key {
			return p[i+1], true
		}
	}
	return "", false
}

// Has implements labels.Labels.
func (p labelPairs) Has(key string) bool {
	_, ok := p.Lookup(key)
	return ok
}

// Get implements labels.Labels.
func (p labelPairs) Get(key string) string {
	v, _ := p.Lookup(key)
	return v
}

// within tells whether every pair is in set.
func (p labelPairs) within(set map[string]string) bool {
	for i := 0; i+1 < len(p); i += 2 {
		if v, ok := set[p[i]]; !ok || v != p[i+1] {
			return false
		}
	}
	return true
}

func (p labelPairs) toMap() map[string]string {
	if p == nil {
		return nil
	}
	m := make(map[string]string, len(p)/2)
	for i := 0; i+1 < len(p); i += 2 {
		m[p[i]] = p[i+1]
	}
	return m
}

// typedCopy is a copy of a stored object as the typed object readers expect:
// a stored form rebuilt, any other object deep-copied. ok is false for what
// is no object.
func typedCopy(o any) (client.Object, bool) {
	if s, ok := o.(stored); ok {
		return s.object(), true
	}
	r, ok := o.(runtime.Object)
	if !ok {
		return nil, false
	}
	obj, ok := r.DeepCopyObject().(client.Object)
	return obj, ok
}
