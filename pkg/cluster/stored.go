package cluster

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// storedWorkload is how the cache keeps a Deployment or StatefulSet: the
// fields slim keeps and nothing else. A slimmed appsv1.Deployment is still a
// 1,232-byte struct (1,312 for a StatefulSet), nearly all of it the empty pod
// spec and status; this is 288 bytes, and at 10,000 workloads those structs
// were the largest single item of the webhook's live heap
// (docs/performance.md, "Scale with the cluster").
//
// It satisfies metav1.Object through the embedded ObjectMeta, which is all
// the informer needs of what it stores (its keys and namespace index). It is
// no runtime.Object, so controller-runtime's reader cannot hand it out: every
// read of the stores goes through typedObject, which rebuilds the slimmed
// typed object the rules read.
type storedWorkload struct {
	metav1.ObjectMeta
	// kind is workload.KindDeployment or workload.KindStatefulSet.
	kind       string
	replicas   *int32
	podLabels  map[string]string
	containers []corev1.Container
}

// storeWorkload turns a slimmed Deployment or StatefulSet into its stored form;
// ok is false for any other object.
func storeWorkload(obj any) (s *storedWorkload, ok bool) {
	var spec *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *appsv1.Deployment:
		s, spec = &storedWorkload{ObjectMeta: o.ObjectMeta, kind: workload.KindDeployment, replicas: o.Spec.Replicas}, &o.Spec.Template
	case *appsv1.StatefulSet:
		s, spec = &storedWorkload{ObjectMeta: o.ObjectMeta, kind: workload.KindStatefulSet, replicas: o.Spec.Replicas}, &o.Spec.Template
	default:
		return nil, false
	}
	s.podLabels, s.containers = spec.Labels, spec.Spec.Containers
	return s, true
}

// object is the slimmed typed object s was stored from, a copy: what a
// reader does with it changes nothing cached.
func (s *storedWorkload) object() client.Object {
	meta := *s.ObjectMeta.DeepCopy()
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: copyLabels(s.podLabels)}}
	for i := range s.containers {
		template.Spec.Containers = append(template.Spec.Containers, *s.containers[i].DeepCopy())
	}
	replicas := s.replicas
	if replicas != nil {
		r := *replicas
		replicas = &r
	}
	if s.kind == workload.KindStatefulSet {
		return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: s.kind}, ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: replicas, Template: template}}
	}
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: s.kind}, ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{Replicas: replicas, Template: template}}
}

func copyLabels(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// typedCopy is a copy of a stored object as the typed object readers expect:
// a stored workload rebuilt, any other object deep-copied. A store holds
// typed workloads only when a measurement replaced the transform
// (Options.Transform). ok is false for what is no object.
func typedCopy(o any) (client.Object, bool) {
	if s, ok := o.(*storedWorkload); ok {
		return s.object(), true
	}
	r, ok := o.(runtime.Object)
	if !ok {
		return nil, false
	}
	obj, ok := r.DeepCopyObject().(client.Object)
	return obj, ok
}

// podLabelsOf is the pod template labels of a stored workload, in place,
// without rebuilding it; ok is false for anything else.
func podLabelsOf(o any) (labels map[string]string, ok bool) {
	switch o := o.(type) {
	case *storedWorkload:
		return o.podLabels, true
	case *appsv1.Deployment:
		return o.Spec.Template.Labels, true
	case *appsv1.StatefulSet:
		return o.Spec.Template.Labels, true
	}
	return nil, false
}
