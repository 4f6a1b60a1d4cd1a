package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// lastApplied stands for the annotations the cache must not keep: kubectl's
// copy of the whole object, here 100 KiB.
var lastApplied = strings.Repeat("x", 100<<10)

// exemption is what a workload's own annotations say; slimming keeps it.
var exemption = map[string]string{
	exempt.AnnotationRules:  "replicas-recommended",
	exempt.AnnotationReason: "load-test cluster, INC-4711",
	exempt.AnnotationUntil:  "2031-07-01T00:00:00Z",
}

// fullMeta is metadata as the API server sends it: every field set, the
// webhook's annotations beside foreign ones.
func fullMeta(name, ns string, labels map[string]string) metav1.ObjectMeta {
	annotations := map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": lastApplied,
		"deployment.kubernetes.io/revision":                "7",
		"ha.laminar.io":                                    "no slash: not the webhook's prefix",
	}
	for k, v := range exemption {
		annotations[k] = v
	}
	deleted := metav1.NewTime(time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC))
	return metav1.ObjectMeta{
		Name: name, Namespace: ns, GenerateName: name + "-", UID: types.UID("uid-" + name),
		ResourceVersion: "4711", Generation: 3,
		CreationTimestamp: metav1.NewTime(time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)),
		DeletionTimestamp: &deleted, DeletionGracePeriodSeconds: ptr.To[int64](30),
		Labels: labels, Annotations: annotations,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Laminar", Name: "l", UID: "owner"}},
		Finalizers:      []string{"example.com/cleanup"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", APIVersion: "v1", Operation: metav1.ManagedFieldsOperationApply,
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)}},
	}
}

// slimMetaOf is what slimming leaves of fullMeta.
func slimMetaOf(name, ns string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name), ResourceVersion: "4711",
		CreationTimestamp: metav1.NewTime(time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)),
		Labels:            labels, Annotations: exemption}
}

func fixture(t *testing.T, name string) runtime.Object {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "mutate", name))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	return obj
}

var (
	apiPods        = map[string]string{"app": "laminar-api"}
	controllerPods = map[string]string{"app": "laminar-controller"}
	ownLabels      = map[string]string{"team": "streaming", "app.kubernetes.io/part-of": "laminar"}
)

// fullDeployment is the api golden fixture (a whole pod spec) with everything
// else the API server fills in.
func fullDeployment(t *testing.T, ns string) *appsv1.Deployment {
	t.Helper()
	d, ok := fixture(t, "api-minimal.golden.yaml").(*appsv1.Deployment)
	require.True(t, ok)
	d.ObjectMeta = fullMeta("laminar-api", ns, ownLabels)
	d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2031-05-02T00:00:00Z"}
	d.Spec.MinReadySeconds, d.Spec.RevisionHistoryLimit = 5, ptr.To[int32](10)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Message: "ok"}}}
	return d
}

func fullStatefulSet(t *testing.T, ns string) *appsv1.StatefulSet {
	t.Helper()
	s, ok := fixture(t, "controller-minimal.golden.yaml").(*appsv1.StatefulSet)
	require.True(t, ok)
	s.ObjectMeta = fullMeta("laminar-controller", ns, ownLabels)
	s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "rocksdb"}}}
	s.Status = appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 3, CurrentRevision: "laminar-controller-abc"}
	return s
}

func fullHPA(ns, name, kind, target string, lo *int32, hi int32) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: fullMeta(name, ns, ownLabels),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: target},
			MinReplicas:    lo, MaxReplicas: hi,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](70)}}}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](300)}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 3},
	}
}

func fullPDB(ns, name string, pods map[string]string, minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: fullMeta(name, ns, ownLabels),
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:     &metav1.LabelSelector{MatchLabels: pods},
			MinAvailable: minAvailable, MaxUnavailable: maxUnavailable,
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
		Status: policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3,
			DisruptedPods: map[string]metav1.Time{"laminar-api-1": metav1.NewTime(time.Date(2031, 5, 3, 0, 0, 0, 0, time.UTC))}},
	}
}

// alive is obj as a CREATE sends it: fullMeta's deletion timestamp is what the
// API server sends of an object being deleted, which no rule judges.
func alive[T client.Object](obj T) T {
	obj.SetDeletionTimestamp(nil)
	obj.SetDeletionGracePeriodSeconds(nil)
	return obj
}

func fullNamespace(name string, labels map[string]string) *metav1.PartialObjectMetadata {
	ns := &metav1.PartialObjectMetadata{ObjectMeta: fullMeta(name, "", labels)}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return ns
}

func TestSlimKeepsExactlyWhatIsRead(t *testing.T) {
	intOne := intstr.FromInt32(1)
	nsKind := metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"Deployment", fullDeployment(t, "laminar"), &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: slimMetaOf("laminar-api", "laminar", nil),
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3),
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: apiPods}}},
		}},
		{"StatefulSet", fullStatefulSet(t, "laminar"), &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: slimMetaOf("laminar-controller", "laminar", nil),
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3),
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: controllerPods},
					// What a scale request's leader-election check reads, and nothing more.
					Spec: corev1.PodSpec{Containers: commandsOf(fullStatefulSet(t, "laminar").Spec.Template.Spec.Containers)}}},
		}},
		// Its template labels name no Laminar role: no reader of the cache looks at it.
		{"Deployment of something else", func() *appsv1.Deployment {
			d := fullDeployment(t, "laminar")
			d.Spec.Template.Labels = map[string]string{"app": "web", "app.kubernetes.io/name": "web", "pod-template-hash": "5d8f"}
			return d
		}(), &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: slimMetaOf("laminar-api", "laminar", nil),
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
		}},
		{"HorizontalPodAutoscaler", fullHPA("laminar", "api", "Deployment", "laminar-api", ptr.To[int32](3), 6), &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: slimMetaOf("api", "laminar", nil),
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "laminar-api"},
				MinReplicas:    ptr.To[int32](3), MaxReplicas: 6},
		}},
		{"PodDisruptionBudget", fullPDB("laminar", "api", apiPods, nil, &intOne), &policyv1.PodDisruptionBudget{
			ObjectMeta: slimMetaOf("api", "laminar", nil),
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: apiPods}, MaxUnavailable: &intOne},
		}},
		{"Service", &corev1.Service{ObjectMeta: fullMeta("api", "laminar", ownLabels),
			Spec: corev1.ServiceSpec{Selector: apiPods, Type: corev1.ServiceTypeNodePort, SessionAffinity: corev1.ServiceAffinityClientIP,
				ClusterIP: "10.0.0.7", ClusterIPs: []string{"10.0.0.7"},
				Ports:                 []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8000), NodePort: 30080}},
				SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10800)}},
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}}},
		}, &corev1.Service{
			ObjectMeta: slimMetaOf("api", "laminar", nil),
			Spec:       corev1.ServiceSpec{Selector: apiPods, Type: corev1.ServiceTypeNodePort, SessionAffinity: corev1.ServiceAffinityClientIP},
		}},
		{"IngressClass", &networkingv1.IngressClass{ObjectMeta: fullMeta("alb", "", ownLabels),
			Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb",
				Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr.To("elbv2.k8s.aws"), Kind: "IngressClassParams", Name: "alb"}},
		}, &networkingv1.IngressClass{
			ObjectMeta: slimMetaOf("alb", "", nil),
			Spec:       networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"},
		}},
		{"Node", &corev1.Node{ObjectMeta: fullMeta("node-a", "", map[string]string{corev1.LabelTopologyZone: "a", corev1.LabelHostname: "node-a"}),
			Spec:   corev1.NodeSpec{Unschedulable: true, PodCIDR: "10.1.0.0/24", Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}},
			Status: corev1.NodeStatus{Capacity: corev1.ResourceList{}, NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.34.0"}},
		}, &corev1.Node{
			// Its labels are read: zone and hostname.
			ObjectMeta: slimMetaOf("node-a", "", map[string]string{corev1.LabelTopologyZone: "a", corev1.LabelHostname: "node-a"}),
			Spec:       corev1.NodeSpec{Unschedulable: true, Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}},
		}},
		{"Namespace metadata", fullNamespace("laminar", map[string]string{"ha.laminar.io/enforce": "warn"}), &metav1.PartialObjectMetadata{
			TypeMeta: nsKind, ObjectMeta: slimMetaOf("laminar", "", map[string]string{"ha.laminar.io/enforce": "warn"}),
		}},
		// A kind slim does not know only loses managedFields, as every object did before.
		{"other kind", &corev1.ConfigMap{ObjectMeta: fullMeta("c", "laminar", ownLabels), Data: map[string]string{"k": "v"}},
			&corev1.ConfigMap{ObjectMeta: func() metav1.ObjectMeta {
				m := fullMeta("c", "laminar", ownLabels)
				m.ManagedFields = nil
				return m
			}(), Data: map[string]string{"k": "v"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := slimObject(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)

			// client-go may hand an object slim already transformed back to it.
			again, err := slimObject(deepCopy(t, got))
			require.NoError(t, err)
			assert.Equal(t, tc.want, again, "slim is idempotent")
		})
	}
}

// The cache keeps workloads, budgets and autoscalers each in a small form of
// its own, and what readers get back from it is exactly the slimmed typed
// object (its kind set), as a copy.
func TestSlimStoresTheSlimmedObjectInItsOwnForm(t *testing.T) {
	web := fullDeployment(t, "laminar")
	web.Spec.Template.Labels = map[string]string{"app": "web"}
	intOne := intstr.FromInt32(1)
	noSelector := fullPDB("laminar", "none", nil, nil, &intOne)
	noSelector.Spec.Selector = nil
	everyPod := fullPDB("laminar", "all", map[string]string{}, &intOne, nil)
	expressions := fullPDB("laminar", "expr", apiPods, nil, &intOne)
	expressions.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}
	gvks := map[string]schema.GroupVersionKind{
		"*v1.Deployment": appsv1.SchemeGroupVersion.WithKind("Deployment"), "*v1.StatefulSet": appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
		"*v1.PodDisruptionBudget":     policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"),
		"*v2.HorizontalPodAutoscaler": autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"),
	}
	for _, in := range []client.Object{fullDeployment(t, "laminar"), fullStatefulSet(t, "laminar"), web,
		fullPDB("laminar", "api", apiPods, nil, &intOne), noSelector, everyPod, expressions,
		fullHPA("laminar", "api", "Deployment", "laminar-api", ptr.To[int32](3), 6), fullHPA("laminar", "open", "StatefulSet", "x", nil, 2)} {
		t.Run(fmt.Sprintf("%T %s", in, in.GetName()), func(t *testing.T) {
			slimmed, err := slimObject(deepCopy(t, in))
			require.NoError(t, err)
			want := slimmed.(client.Object)
			gvk, ok := gvks[fmt.Sprintf("%T", in)]
			require.True(t, ok)
			want.GetObjectKind().SetGroupVersionKind(gvk)

			got, err := slim(deepCopy(t, in))
			require.NoError(t, err)
			kept, ok := got.(stored)
			require.True(t, ok, "%T", got)
			assert.Equal(t, want, kept.object())
			// What the informer reads of it: its key and namespace index.
			key, err := toolscache.MetaNamespaceKeyFunc(kept)
			require.NoError(t, err)
			assert.Equal(t, in.GetNamespace()+"/"+in.GetName(), key)
			index, err := toolscache.MetaNamespaceIndexFunc(kept)
			require.NoError(t, err)
			assert.Equal(t, []string{in.GetNamespace()}, index)
			again, err := slim(kept)
			require.NoError(t, err)
			assert.Same(t, kept, again, "slim is idempotent")

			// A reader changes everything it can reach in what it got.
			switch o := kept.object().(type) {
			case *appsv1.Deployment, *appsv1.StatefulSet:
				w, ok := workload.FromObject(o)
				if in == web {
					assert.False(t, ok, "not Laminar's, before or after")
					return
				}
				require.True(t, ok)
				w.Template.Labels["app"] = "changed"
				w.Meta.Annotations[exempt.AnnotationRules] = "changed"
				if w.Deployment != nil {
					*w.Deployment.Spec.Replicas = 9
				} else {
					*w.StatefulSet.Spec.Replicas = 9
				}
				if len(w.Template.Spec.Containers) > 0 {
					w.Template.Spec.Containers[0].Env[0].Value = "changed"
				}
			case *policyv1.PodDisruptionBudget:
				o.Annotations[exempt.AnnotationRules] = "changed"
				if sel := o.Spec.Selector; sel != nil {
					sel.MatchLabels["app"] = "changed"
					if len(sel.MatchExpressions) > 0 {
						sel.MatchExpressions[0].Values[0] = "changed"
					}
				}
				for _, v := range []*intstr.IntOrString{o.Spec.MinAvailable, o.Spec.MaxUnavailable} {
					if v != nil {
						*v = intstr.FromInt32(7)
					}
				}
			case *autoscalingv2.HorizontalPodAutoscaler:
				o.Annotations[exempt.AnnotationRules] = "changed"
				o.Spec.ScaleTargetRef.Name = "changed"
				if o.Spec.MinReplicas != nil {
					*o.Spec.MinReplicas = 9
				}
			}
			assert.Equal(t, want, kept.object(), "a reader's changes to what it got change nothing stored")
		})
	}
	for typed, kept := range map[uintptr]uintptr{
		unsafe.Sizeof(appsv1.Deployment{}):                     unsafe.Sizeof(storedWorkload{}),
		unsafe.Sizeof(policyv1.PodDisruptionBudget{}):          unsafe.Sizeof(storedBudget{}),
		unsafe.Sizeof(autoscalingv2.HorizontalPodAutoscaler{}): unsafe.Sizeof(storedAutoscaler{}),
	} {
		assert.Less(t, kept, typed, "the stored form is smaller than the typed object it replaces")
	}
}

// A stored budget selects exactly the pods its typed selector selects
// through metav1.LabelSelectorAsSelector, which the reader's path uses.
func TestStoredBudgetSelectsAsItsSelector(t *testing.T) {
	pods := []map[string]string{nil, {}, apiPods, controllerPods, {"app": "laminar-api", "tier": "a"}, {"app": "laminar-api", "tier": "c"},
		{"tier": "a"}, {"app": "laminar-api", "tier": ""}, {"app": "not a label value!"}}
	selectors := []*metav1.LabelSelector{
		nil, {}, {MatchLabels: map[string]string{}}, {MatchLabels: apiPods},
		{MatchLabels: map[string]string{"app": "laminar-api", "tier": "a"}},
		// An empty value still needs the label.
		{MatchLabels: map[string]string{"app": "laminar-api", "tier": ""}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}},
		{MatchLabels: apiPods, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpDoesNotExist}}},
		// Refused by LabelSelectorAsSelector: selects nothing either way.
		{MatchLabels: map[string]string{"app": "not a label value!"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}},
	}
	for _, sel := range selectors {
		b := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel}}
		kept, ok := store(b)
		require.True(t, ok)
		for _, p := range pods {
			typed, err := metav1.LabelSelectorAsSelector(sel)
			want := err == nil && typed.Matches(labels.Set(p))
			assert.Equal(t, want, kept.(*storedBudget).selects(p), "selector %v over pods %v", sel, p)
		}
	}
}

func deepCopy(t *testing.T, obj any) any {
	t.Helper()
	o, ok := obj.(runtime.Object)
	require.True(t, ok, "%T", obj)
	return o.DeepCopyObject()
}

// Every annotation the webhook reads starts with the prefix slimming keeps; an
// exemption annotation renamed outside it would silently stop working for scale
// requests, budgets and autoscalers.
func TestKeptPrefixCoversExemptionAnnotations(t *testing.T) {
	for _, key := range []string{exempt.AnnotationRules, exempt.AnnotationReason, exempt.AnnotationUntil} {
		assert.True(t, strings.HasPrefix(key, keptAnnotationPrefix), key)
	}
}

// fakeCache is a Cache whose reader holds objs, slimmed or as the API server
// sends them: the View methods run unchanged over it.
func fakeCache(t *testing.T, slimmed bool, objs ...any) *Cache {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	var stored []client.Object
	for _, o := range objs {
		o = deepCopy(t, o)
		if slimmed {
			var err error
			o, err = slimObject(o)
			require.NoError(t, err)
		}
		// The fake client stores Namespaces typed; the Cache reads them back as
		// metadata, as the real one does.
		if m, ok := o.(*metav1.PartialObjectMetadata); ok {
			o = &corev1.Namespace{ObjectMeta: m.ObjectMeta}
		}
		co, ok := o.(client.Object)
		require.True(t, ok, "%T", o)
		stored = append(stored, co)
	}
	return &Cache{reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(stored...).Build()}
}

// clusterObjects is one namespace of a cluster: a Laminar api Deployment with an
// exemption and a budget that allows no scale-down, a controller StatefulSet with
// no budget, an autoscaler on the api.
func clusterObjects(t *testing.T, ns string, nsLabels map[string]string) []any {
	two := intstr.FromInt32(2)
	return []any{
		fullNamespace(ns, nsLabels),
		fullDeployment(t, ns),
		fullStatefulSet(t, ns),
		fullPDB(ns, "api-budget", apiPods, &two, nil),
		fullHPA(ns, "api-hpa", "Deployment", "laminar-api", ptr.To[int32](3), 6),
		// Not Laminar's: selects and targets nothing the rules judge.
		fullPDB(ns, "web", map[string]string{"app": "web"}, nil, &two),
		fullService(ns, "laminar-api", apiPods, corev1.ServiceAffinityNone),
		fullService(ns, "web", map[string]string{"app": "web"}, corev1.ServiceAffinityClientIP),
	}
}

func fullService(ns, name string, pods map[string]string, affinity corev1.ServiceAffinity) *corev1.Service {
	return &corev1.Service{ObjectMeta: fullMeta(name, ns, ownLabels),
		Spec: corev1.ServiceSpec{Selector: pods, Type: corev1.ServiceTypeClusterIP, SessionAffinity: affinity,
			ClusterIP: "10.0.0.9", Ports: []corev1.ServicePort{{Port: 8000}}}}
}

func fullIngress(ns, class, backend, path string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "i", Namespace: ns,
		Annotations: map[string]string{"alb.ingress.kubernetes.io/healthcheck-path": path}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Number: 8000}}}}}
}

func request(t *testing.T, op admissionv1.Operation, ns string, kind metav1.GroupVersionKind, res metav1.GroupVersionResource,
	sub, name string, obj, old any) admission.Request {
	t.Helper()
	raw := func(v any) runtime.RawExtension {
		if v == nil {
			return runtime.RawExtension{}
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return runtime.RawExtension{Raw: b}
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "u-1", Operation: op, Namespace: ns, Name: name, Kind: kind, Resource: res, SubResource: sub,
		Object: raw(obj), OldObject: raw(old)}}
}

func scale(t *testing.T, ns, resource, name string, to, from int32) admission.Request {
	t.Helper()
	s := func(n int32) map[string]any {
		return map[string]any{"apiVersion": "autoscaling/v1", "kind": "Scale",
			"metadata": map[string]any{"name": name, "namespace": ns}, "spec": map[string]any{"replicas": n}}
	}
	return request(t, admissionv1.Update, ns, metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
		metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: resource}, "scale", name, s(to), s(from))
}

// The rules that read the cache give the same verdict, word for word, whether
// the cache holds whole objects or slimmed ones: scale requests (parent
// workload, its exemption, its budgets), budgets and autoscalers (the workloads
// they govern), Services and Ingresses (the workloads they route to, the
// Ingress's class), workloads (their budgets and autoscalers), each in a deny and
// a warn-mode namespace (namespace labels).
func TestSlimmedCacheGivesTheSameVerdicts(t *testing.T) {
	ctx := context.Background()
	var objs []any
	for ns, labels := range map[string]map[string]string{"laminar": nil, "laminar-warn": {"ha.laminar.io/enforce": "warn"}} {
		objs = append(objs, clusterObjects(t, ns, labels)...)
	}
	objs = append(objs, &networkingv1.IngressClass{ObjectMeta: fullMeta("public", "", ownLabels),
		Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"}})
	svcKind := metav1.GroupVersionKind{Version: "v1", Kind: "Service"}
	ingKind := metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
	pdbKind := metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}
	hpaKind := metav1.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}
	deployKind := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	stsKind := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
	deployRes := metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	stsRes := metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
	// As a client sends them: no managedFields, status or foreign annotations matter here.
	workloadAt := func(ns string, replicas int32) *appsv1.Deployment {
		d := fullDeployment(t, ns)
		d.ObjectMeta = metav1.ObjectMeta{Name: d.Name, Namespace: ns}
		d.Spec.Replicas, d.Status = &replicas, appsv1.DeploymentStatus{}
		return d
	}
	newController := func(ns string) *appsv1.StatefulSet {
		s := fullStatefulSet(t, ns)
		s.ObjectMeta, s.Status = metav1.ObjectMeta{Name: "laminar-controller-2", Namespace: ns}, appsv1.StatefulSetStatus{}
		return s
	}

	type scenario struct {
		name    string
		handler func(admit.Config) *admit.Handler
		req     func(ns string) admission.Request
		// rule must appear in the answer: proof that the cache was read at all.
		rule string
		// exempted, when set, is what the cached workload's exemption must excuse.
		exempted string
	}
	scenarios := []scenario{
		{"scale below the minimum and the budget", admit.NewScaleValidator,
			func(ns string) admission.Request { return scale(t, ns, "deployments", "laminar-api", 1, 3) }, "replicas-min", ""},
		{"scale into the budget, recommendation exempted", admit.NewScaleValidator,
			func(ns string) admission.Request { return scale(t, ns, "deployments", "laminar-api", 2, 3) }, "pdb-allows-drain", "replicas-recommended"},
		{"scale of the controller", admit.NewScaleValidator,
			func(ns string) admission.Request { return scale(t, ns, "statefulsets", "laminar-controller", 1, 3) }, "replicas-min", ""},
		{"budget blocking drains of the api", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, pdbKind, metav1.GroupVersionResource{}, "", "b",
				alive(fullPDB(ns, "b", apiPods, nil, &zero)), nil)
		}, "pdb-allows-drain", ""},
		{"budget letting every controller pod go", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, pdbKind, metav1.GroupVersionResource{}, "", "b",
				alive(fullPDB(ns, "b", controllerPods, nil, ptr.To(intstr.FromInt32(3)))), nil)
		}, "pdb-keeps-one", ""},
		{"Service pinning clients to the api", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, svcKind, metav1.GroupVersionResource{}, "", "s",
				alive(fullService(ns, "s", apiPods, corev1.ServiceAffinityClientIP)), nil)
		}, "api-service-session-affinity", ""},
		{"ALB Ingress of the api on a path it does not answer", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, ingKind, metav1.GroupVersionResource{}, "", "i",
				fullIngress(ns, "public", "laminar-api", "/"), nil)
		}, "api-alb-healthcheck-path", ""},
		{"ALB Ingress of the api on its health path", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, ingKind, metav1.GroupVersionResource{}, "", "i",
				fullIngress(ns, "public", "laminar-api", "/health"), nil)
		}, "", ""},
		{"autoscaler below the minimum", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, hpaKind, metav1.GroupVersionResource{}, "", "h",
				alive(fullHPA(ns, "h", "Deployment", "laminar-api", ptr.To[int32](1), 6)), nil)
		}, "hpa-min-replicas", ""},
		{"autoscaler capped below the minimum", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, hpaKind, metav1.GroupVersionResource{}, "", "h",
				alive(fullHPA(ns, "h", "StatefulSet", "laminar-controller", nil, 1)), nil)
		}, "hpa-max-replicas", ""},
		{"replica edit under an autoscaler", admit.NewValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Update, ns, deployKind, deployRes, "", "laminar-api", workloadAt(ns, 4), workloadAt(ns, 3))
		}, "hpa-static-replicas", ""},
		{"replica edit into the budget", admit.NewValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Update, ns, deployKind, deployRes, "", "laminar-api", workloadAt(ns, 2), workloadAt(ns, 3))
		}, "pdb-allows-drain", ""},
		{"controller without a budget", admit.NewValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, stsKind, stsRes, "", "laminar-controller-2", newController(ns), nil)
		}, "pdb-missing", ""},
		{"budget of one over the api", admit.NewRelatedValidator, func(ns string) admission.Request {
			return request(t, admissionv1.Create, ns, pdbKind, metav1.GroupVersionResource{}, "", "b",
				alive(fullPDB(ns, "b", apiPods, nil, &one)), nil)
		}, "", ""},
	}

	whole, slimmed, stored := fakeCache(t, false, objs...), fakeCache(t, true, objs...), withStores(t, objs...)
	now := func() time.Time { return time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC) }
	config := func(c *Cache) admit.Config {
		return admit.Config{Policy: admit.Static(policy.Default()), Namespaces: c, Cluster: c, Clock: now}
	}
	for _, sc := range scenarios {
		for _, ns := range []string{"laminar", "laminar-warn"} {
			t.Run(fmt.Sprintf("%s in %s", sc.name, ns), func(t *testing.T) {
				want := sc.handler(config(whole)).Handle(ctx, sc.req(ns))
				got := sc.handler(config(slimmed)).Handle(ctx, sc.req(ns))
				assert.Equal(t, want, got)
				assert.Equal(t, want, sc.handler(config(stored)).Handle(ctx, sc.req(ns)),
					"the same over the informers' stores, holding what the transform stores")
				assert.Equal(t, ns == "laminar-warn", want.AuditAnnotations[admit.AuditMode] == policy.ModeWarn,
					"the namespace's mode comes from its cached labels: %v", want.AuditAnnotations)
				if sc.exempted != "" {
					assert.Equal(t, sc.exempted, want.AuditAnnotations[admit.AuditExempted])
				}
				if sc.rule != "" {
					assert.Contains(t, want.AuditAnnotations[admit.AuditViolations], sc.rule)
				} else {
					assert.True(t, want.Allowed)
					assert.Equal(t, "api", want.AuditAnnotations[admit.AuditRole], "judged against the cached api: %v", want.AuditAnnotations)
				}
			})
		}
	}
}

// commandsOf keeps of each container what slim keeps of a controller's.
func commandsOf(cs []corev1.Container) []corev1.Container {
	var out []corev1.Container
	for _, c := range cs {
		out = append(out, corev1.Container{Name: c.Name, Command: c.Command, Args: c.Args, Env: c.Env})
	}
	return out
}
