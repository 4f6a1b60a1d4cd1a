package admit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// benchObject reads a fixture as the JSON an API server would send.
func benchObject(b *testing.B, rel string) []byte {
	b.Helper()
	raw, err := manifestJSON(rel)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func manifestJSON(rel string) ([]byte, error) {
	raw, err := readFixture(rel)
	if err != nil {
		return nil, err
	}
	obj, _, err := manifest.Decode(raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

// withContainers returns an api Deployment whose pod has n containers, the main
// one last, each with a realistic spread of env, ports and mounts.
func withContainers(b *testing.B, n int) []byte {
	b.Helper()
	raw, err := readFixture("mutate/api-minimal.yaml")
	if err != nil {
		b.Fatal(err)
	}
	obj, _, err := manifest.Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	d := obj.(*appsv1.Deployment)
	main := d.Spec.Template.Spec.Containers[0]
	var cs []corev1.Container
	for i := 0; i < n-1; i++ {
		c := corev1.Container{Name: fmt.Sprintf("sidecar-%d", i), Image: "example/sidecar:1"}
		for j := 0; j < 5; j++ {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("VAR_%d", j), Value: "value"})
		}
		c.Ports = []corev1.ContainerPort{{ContainerPort: int32(9000 + i)}}
		cs = append(cs, c)
	}
	d.Spec.Template.Spec.Containers = append(cs, main)
	js, err := json.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	return js
}

func benchRequest(kind string, obj []byte) admission.Request {
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "bench", Operation: admissionv1.Create, Namespace: "laminar", Name: "laminar-api",
		Kind:   metav1GVK("apps", "v1", kind),
		Object: runtime.RawExtension{Raw: obj},
	}}
}

// benchContext carries the logger the server uses (JSON, info level), writing
// nowhere: the decision log lines are part of the cost.
func benchContext() context.Context {
	log := zap.New(zap.UseFlagOptions(&zap.Options{DestWriter: io.Discard, Level: zapcore.InfoLevel}))
	return logf.IntoContext(context.Background(), log)
}

// benchBoth runs the full admission path the API server drives: mutate, apply the
// patch, then validate the result.
func benchBoth(b *testing.B, kind string, obj []byte) {
	p := admit.Static(policy.Default())
	m := admit.NewMutator(admit.Config{Policy: p})
	v := admit.NewValidator(admit.Config{Policy: p})
	ctx := benchContext()
	mutated := applyPatch(b, obj, m.Handle(ctx, benchRequest(kind, obj)))
	b.ReportAllocs()
	b.SetBytes(int64(len(obj)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mr := m.Handle(ctx, benchRequest(kind, obj))
		if !mr.Allowed {
			b.Fatal("mutation refused")
		}
		vr := v.Handle(ctx, benchRequest(kind, mutated))
		if !vr.Allowed {
			b.Fatalf("validation refused: %v", vr.Result)
		}
	}
}

func BenchmarkAdmitAPIDeployment(b *testing.B) {
	benchBoth(b, "Deployment", benchObject(b, "mutate/api-minimal.yaml"))
}

func BenchmarkAdmitControllerStatefulSet(b *testing.B) {
	benchBoth(b, "StatefulSet", benchObject(b, "mutate/controller-minimal.yaml"))
}

// BenchmarkAdmitContainers shows how cost grows with the pod's size: it should be
// linear in the number of containers.
func BenchmarkAdmitContainers(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			benchBoth(b, "Deployment", withContainers(b, n))
		})
	}
}

// BenchmarkDecodePatchEncode isolates the JSON work: decode the request's object,
// mutate it, compute the patch and encode the response's patch.
func BenchmarkDecodePatchEncode(b *testing.B) {
	obj := benchObject(b, "mutate/api-minimal.yaml")
	m := admit.NewMutator(admit.Config{Policy: admit.Static(policy.Default())})
	ctx := benchContext()
	b.ReportAllocs()
	b.SetBytes(int64(len(obj)))
	for i := 0; i < b.N; i++ {
		r := m.Handle(ctx, benchRequest("Deployment", obj))
		if len(r.Patch) == 0 {
			b.Fatal("no patch")
		}
	}
}

// The API server hands admission more than the manifest: its defaults, uid,
// creationTimestamp, managedFields and, after a client-side kubectl apply, the
// last-applied-configuration annotation — together about half of the object
// (see test/load for the same shaping of the load mix).

func BenchmarkAdmitAPIDeploymentAsSent(b *testing.B) {
	benchBoth(b, "Deployment", asSent(b, "mutate/api-minimal.yaml"))
}

func BenchmarkAdmitControllerStatefulSetAsSent(b *testing.B) {
	benchBoth(b, "StatefulSet", asSent(b, "mutate/controller-minimal.yaml"))
}

// asSent is a fixture as the API server sends it to admission on CREATE.
func asSent(b *testing.B, rel string) []byte {
	b.Helper()
	user := benchObject(b, rel)
	raw, err := readFixture(rel)
	if err != nil {
		b.Fatal(err)
	}
	obj, _, err := manifest.Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var meta *metav1.ObjectMeta
	var tmpl *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *appsv1.Deployment:
		meta, tmpl = &o.ObjectMeta, &o.Spec.Template
		quarter := intstr.FromString("25%")
		o.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &quarter, MaxSurge: &quarter}}
		o.Spec.RevisionHistoryLimit, o.Spec.ProgressDeadlineSeconds = ptr.To[int32](10), ptr.To[int32](600)
	case *appsv1.StatefulSet:
		meta, tmpl = &o.ObjectMeta, &o.Spec.Template
		o.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
		o.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)}}
		o.Spec.RevisionHistoryLimit = ptr.To[int32](10)
		for i := range o.Spec.VolumeClaimTemplates {
			t := &o.Spec.VolumeClaimTemplates[i]
			t.APIVersion, t.Kind = "v1", "PersistentVolumeClaim"
			t.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
			t.Status.Phase = corev1.ClaimPending
		}
	}
	meta.UID = types.UID("5b7a1c3e-0000-4000-8000-000000000001")
	meta.CreationTimestamp = now
	meta.Generation = 1
	meta.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(user) + "\n"}
	var fields map[string]any
	if err := json.Unmarshal(user, &fields); err != nil {
		b.Fatal(err)
	}
	fv1, err := json.Marshal(fieldSet(fields))
	if err != nil {
		b.Fatal(err)
	}
	meta.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "apps/v1", Time: &now, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(fv1))}}
	s := &tmpl.Spec
	s.RestartPolicy, s.DNSPolicy, s.SchedulerName = corev1.RestartPolicyAlways, corev1.DNSClusterFirst, corev1.DefaultSchedulerName
	s.SecurityContext, s.TerminationGracePeriodSeconds = &corev1.PodSecurityContext{}, ptr.To[int64](30)
	for i := range s.Containers {
		c := &s.Containers[i]
		c.ImagePullPolicy, c.TerminationMessagePath, c.TerminationMessagePolicy = corev1.PullIfNotPresent, corev1.TerminationMessagePathDefault, corev1.TerminationMessageReadFile
		for j := range c.Ports {
			c.Ports[j].Protocol = corev1.ProtocolTCP
		}
	}
	js, err := json.Marshal(obj)
	if err != nil {
		b.Fatal(err)
	}
	return js
}

// fieldSet is a FieldsV1 set covering a manifest's fields ("f:" per field,
// "k:" per named list item), as the API server records a manager's fields.
func fieldSet(v any) any {
	out := map[string]any{}
	switch c := v.(type) {
	case map[string]any:
		for k, x := range c {
			if k != "apiVersion" && k != "kind" {
				out["f:"+k] = fieldSet(x)
			}
		}
		out["."] = map[string]any{}
	case []any:
		for _, it := range c {
			if m, ok := it.(map[string]any); ok && m["name"] != nil {
				out[fmt.Sprintf(`k:{"name":%q}`, m["name"])] = fieldSet(m)
			}
		}
	}
	return out
}
