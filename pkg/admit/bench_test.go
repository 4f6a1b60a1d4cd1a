package admit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
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

// benchBoth runs the full admission path the API server drives: mutate, apply the
// patch, then validate the result.
func benchBoth(b *testing.B, kind string, obj []byte) {
	p := admit.Static(policy.Default())
	m := &admit.Mutator{Policy: p}
	v := &admit.Validator{Policy: p}
	ctx := context.Background()
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
	m := &admit.Mutator{Policy: admit.Static(policy.Default())}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(obj)))
	for i := 0; i < b.N; i++ {
		r := m.Handle(ctx, benchRequest("Deployment", obj))
		if _, err := json.Marshal(r.Patches); err != nil {
			b.Fatal(err)
		}
	}
}
