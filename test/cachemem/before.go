package main

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// beforeTransform is what pkg/cluster's cache did to every object up to commit
// 2354a33, kept here as the baseline of the measurement: managedFields
// stripped everywhere (its DefaultTransform); Deployments and StatefulSets
// (its ByObject transform) without pod spec and status, but with every
// annotation; autoscalers, budgets and Namespaces otherwise whole.
func beforeTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	return func(obj any) (any, error) {
		switch o := obj.(type) {
		case *appsv1.Deployment:
			o.ManagedFields = nil
			o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas, Selector: o.Spec.Selector,
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: o.Spec.Template.Labels}}}
			o.Status = appsv1.DeploymentStatus{}
		case *appsv1.StatefulSet:
			o.ManagedFields = nil
			o.Spec = appsv1.StatefulSetSpec{Replicas: o.Spec.Replicas, Selector: o.Spec.Selector,
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: o.Spec.Template.Labels}}}
			o.Status = appsv1.StatefulSetStatus{}
		default:
			return strip(obj)
		}
		return obj, nil
	}
}
