package main

import (
	"fmt"
	"os"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

const instanceLabel = "app.kubernetes.io/instance"

// Shapes are the repository's example objects, which each workload copies.
type Shapes struct {
	Deployment *appsv1.Deployment
	Budget     *policyv1.PodDisruptionBudget
	Autoscaler *autoscalingv2.HorizontalPodAutoscaler
}

func loadShapes(root string) (Shapes, error) {
	var s Shapes
	for _, f := range []struct {
		path string
		into func(client.Object) bool
	}{
		{"examples/api-good.yaml", func(o client.Object) bool { d, ok := o.(*appsv1.Deployment); s.Deployment = d; return ok }},
		{"examples/pdbs.yaml", func(o client.Object) bool { b, ok := o.(*policyv1.PodDisruptionBudget); s.Budget = b; return ok }},
		{"test/e2e/testdata/hpa-api.yaml", func(o client.Object) bool {
			h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler)
			s.Autoscaler = h
			return ok
		}},
	} {
		data, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			return s, err
		}
		objs, err := devenv.DecodeObjects(data)
		if err != nil {
			return s, fmt.Errorf("%s: %w", f.path, err)
		}
		// The first document is the api's (pdbs.yaml also has the controller's).
		if len(objs) == 0 || !f.into(objs[0]) {
			return s, fmt.Errorf("%s: the first document is not the kind expected", f.path)
		}
	}
	return s, nil
}

func instanceName(i int) string { return fmt.Sprintf("laminar-%05d", i) }

// helm is what a Helm install puts on each object it creates.
func helm(meta *metav1.ObjectMeta, instance, namespace string) {
	labels := map[string]string{
		instanceLabel:                  instance,
		"app.kubernetes.io/name":       "laminar",
		"app.kubernetes.io/component":  "api",
		"app.kubernetes.io/managed-by": "Helm",
		"app.kubernetes.io/version":    "1.4.0",
		"helm.sh/chart":                "laminar-1.4.0",
	}
	for k, v := range meta.Labels {
		labels[k] = v
	}
	meta.Labels = labels
	meta.Annotations = map[string]string{
		"meta.helm.sh/release-name":      instance,
		"meta.helm.sh/release-namespace": namespace,
	}
}

// workload is instance i's Deployment, budget and autoscaler in namespace ns,
// named name: the pod template and the budget's selector carry the instance
// label, so the budget selects this Deployment's pods only, and the autoscaler
// targets it.
func (s Shapes) workload(i int, ns, name string) (*appsv1.Deployment, *policyv1.PodDisruptionBudget, *autoscalingv2.HorizontalPodAutoscaler) {
	inst := instanceName(i)
	d := s.Deployment.DeepCopy()
	d.Name, d.Namespace = name, ns
	helm(&d.ObjectMeta, inst, ns)
	d.Spec.Selector.MatchLabels = map[string]string{"app": "laminar-api", instanceLabel: inst}
	pod := map[string]string{instanceLabel: inst}
	for k, v := range d.Spec.Template.Labels {
		pod[k] = v
	}
	d.Spec.Template.Labels = pod

	b := s.Budget.DeepCopy()
	b.Name, b.Namespace = name, ns
	helm(&b.ObjectMeta, inst, ns)
	b.Spec.Selector.MatchLabels = map[string]string{"app": "laminar-api", instanceLabel: inst}

	h := s.Autoscaler.DeepCopy()
	h.Name, h.Namespace = name, ns
	helm(&h.ObjectMeta, inst, ns)
	h.Spec.ScaleTargetRef.Name = name
	return d, b, h
}
