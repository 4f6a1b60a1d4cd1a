// Package workload gives one view over the two kinds Laminar runs as — Deployment
// and StatefulSet — so every HA rule is written once against a pod template,
// a replica count and a role.
package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/kubejson"
)

// Role is the part of Laminar a workload runs.
type Role string

const (
	RoleAPI        Role = "api"
	RoleController Role = "controller"
)

// Roles lists every role, in the order documentation shows them.
var Roles = []Role{RoleAPI, RoleController}

// Kinds the webhook judges.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
)

// Label keys that mark a pod template as Laminar's.
const (
	LabelApp            = "app"
	LabelAppName        = "app.kubernetes.io/name"
	LabelAppComponent   = "app.kubernetes.io/component"
	AppAPI              = "laminar-api"
	AppController       = "laminar-controller"
	AppNameLaminar      = "laminar"
	ComponentAPI        = "api"
	ComponentController = "controller"
)

// Workload is a Laminar Deployment or StatefulSet seen through the parts HA rules read.
// Exactly one of Deployment and StatefulSet is set; the other fields point into it,
// so writing through them changes the object.
type Workload struct {
	Kind        string
	Role        Role
	Deployment  *appsv1.Deployment
	StatefulSet *appsv1.StatefulSet
	Meta        *metav1.ObjectMeta
	Template    *corev1.PodTemplateSpec
}

var (
	// SpecPath is the field path of the workload spec.
	SpecPath = field.NewPath("spec")
	// PodSpecPath is the field path of the pod spec inside the template.
	PodSpecPath = SpecPath.Child("template", "spec")
	// containerPaths are the paths of the first containers, built once: rules
	// ask for the main container's path on every request, and a field.Path
	// never changes once built.
	containerPaths = func() []*field.Path {
		out := make([]*field.Path, 8)
		for i := range out {
			out[i] = PodSpecPath.Child("containers").Index(i)
		}
		return out
	}()
)

// containerPath is the field path of the i-th container of the pod spec.
func containerPath(i int) *field.Path {
	if i >= 0 && i < len(containerPaths) {
		return containerPaths[i]
	}
	return PodSpecPath.Child("containers").Index(i)
}

// RoleFromLabels tells which Laminar role a set of pod labels belongs to.
func RoleFromLabels(labels map[string]string) (Role, bool) {
	switch labels[LabelApp] {
	case AppAPI:
		return RoleAPI, true
	case AppController:
		return RoleController, true
	}
	if labels[LabelAppName] == AppNameLaminar {
		switch labels[LabelAppComponent] {
		case ComponentAPI:
			return RoleAPI, true
		case ComponentController:
			return RoleController, true
		}
	}
	return "", false
}

// RoleLabel returns the label key and value that selected the role, so rules can
// build selectors that match the pods' own labels.
func (w *Workload) RoleLabel() (map[string]string, bool) {
	l := w.Template.Labels
	if v := l[LabelApp]; v == AppAPI || v == AppController {
		return map[string]string{LabelApp: v}, true
	}
	if _, ok := RoleFromLabels(l); ok {
		return map[string]string{LabelAppName: l[LabelAppName], LabelAppComponent: l[LabelAppComponent]}, true
	}
	return nil, false
}

// FromObject wraps a typed Deployment or StatefulSet. ok is false for any other
// object and for workloads whose pod template carries no Laminar label.
func FromObject(obj runtime.Object) (w *Workload, ok bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		w = &Workload{Kind: KindDeployment, Deployment: o, Meta: &o.ObjectMeta, Template: &o.Spec.Template}
	case *appsv1.StatefulSet:
		w = &Workload{Kind: KindStatefulSet, StatefulSet: o, Meta: &o.ObjectMeta, Template: &o.Spec.Template}
	default:
		return nil, false
	}
	role, ok := RoleFromLabels(w.Template.Labels)
	if !ok {
		return nil, false
	}
	w.Role = role
	return w, true
}

// GroupVersionKinds the webhook judges.
var (
	DeploymentGVK  = appsv1.SchemeGroupVersion.WithKind(KindDeployment)
	StatefulSetGVK = appsv1.SchemeGroupVersion.WithKind(KindStatefulSet)
)

// ErrUnsupportedKind is returned by Decode for kinds the webhook does not judge.
type ErrUnsupportedKind struct{ GVK schema.GroupVersionKind }

func (e ErrUnsupportedKind) Error() string {
	return fmt.Sprintf("kind %s is not judged (only apps/v1 Deployment and StatefulSet are)", e.GVK)
}

// Decode turns raw JSON of the given kind into a typed object, read as the API
// server reads it (kubejson.Unmarshal): names match case-sensitively, and a field
// written twice, or beside a case variant of itself, is an error. Unknown fields
// are tolerated: an API server newer than this build may send fields it does not know.
func Decode(gvk schema.GroupVersionKind, raw []byte) (runtime.Object, error) {
	obj := New(gvk)
	if obj == nil {
		return nil, ErrUnsupportedKind{GVK: gvk}
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: no object in the request", gvk.Kind)
	}
	if err := kubejson.Unmarshal(raw, obj); err != nil {
		return nil, fmt.Errorf("%s: object does not fit apps/v1 %s: %w", gvk.Kind, gvk.Kind, err)
	}
	return obj, nil
}

// New is a zero object of a kind the webhook judges, nil for any other kind.
func New(gvk schema.GroupVersionKind) runtime.Object {
	switch gvk {
	case DeploymentGVK:
		return &appsv1.Deployment{}
	case StatefulSetGVK:
		return &appsv1.StatefulSet{}
	}
	return nil
}

// Replicas is the effective replica count: Kubernetes defaults an unset count to 1.
func (w *Workload) Replicas() int32 {
	var r *int32
	if w.Deployment != nil {
		r = w.Deployment.Spec.Replicas
	} else {
		r = w.StatefulSet.Spec.Replicas
	}
	if r == nil {
		return 1
	}
	return *r
}

// Name is the object's name, or its generateName prefix when the name is not yet chosen.
func (w *Workload) Name() string {
	if w.Meta.Name != "" {
		return w.Meta.Name
	}
	return w.Meta.GenerateName
}

// GroupKind is the workload's API group and kind, as errors about it name it.
func (w *Workload) GroupKind() schema.GroupKind {
	if w.StatefulSet != nil {
		return StatefulSetGVK.GroupKind()
	}
	return DeploymentGVK.GroupKind()
}

// Object returns the wrapped typed object.
func (w *Workload) Object() runtime.Object {
	if w.Deployment != nil {
		return w.Deployment
	}
	return w.StatefulSet
}

// MainContainer finds the container the role's settings belong to: the one named
// preferred (policy), else the one named after the role, else the first.
// It returns nil when the template has no containers.
func (w *Workload) MainContainer(preferred string) (*corev1.Container, *field.Path) {
	cs := w.Template.Spec.Containers
	if len(cs) == 0 {
		return nil, nil
	}
	pick := 0
	found := false
	for _, name := range []string{preferred, string(w.Role)} {
		if name == "" || found {
			continue
		}
		for i := range cs {
			if cs[i].Name == name {
				pick, found = i, true
				break
			}
		}
	}
	return &cs[pick], containerPath(pick)
}

// WithReplicas is a deep copy of w whose replica count is n: how a scale request
// would leave the workload.
func (w *Workload) WithReplicas(n int32) *Workload {
	var out *Workload
	if w.Deployment != nil {
		d := w.Deployment.DeepCopy()
		d.Spec.Replicas = &n
		out, _ = FromObject(d)
	} else {
		s := w.StatefulSet.DeepCopy()
		s.Spec.Replicas = &n
		out, _ = FromObject(s)
	}
	return out
}
