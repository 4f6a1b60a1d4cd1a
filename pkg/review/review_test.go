package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/review"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// recorder is a handler that keeps the request it was given and answers from
// it: a patch, a denial, a warning or a panic, so that the answers differ as
// the requests do.
type recorder struct {
	mu   sync.Mutex
	last *admission.Request
}

func (r *recorder) Handle(_ context.Context, req admission.Request) admission.Response {
	r.mu.Lock()
	r.last = &req
	r.mu.Unlock()
	switch {
	case req.Name == "panics":
		panic("handler panic")
	case req.Operation == admissionv1.Delete:
		return admission.Denied("no deletes of " + req.Name)
	case len(req.Object.Raw) > 0:
		return admission.Patched("filled", jsonpatch.NewOperation("add", "/spec/replicas", 2)).
			WithWarnings("warned about " + req.Namespace)
	}
	return admission.Allowed("")
}

// answer is what a handler made of one body.
type answer struct {
	code    int
	body    string
	request *admission.Request
}

func serve(t testing.TB, h http.Handler, rec *recorder, body []byte, hold bool, contentType string) answer {
	t.Helper()
	rec.last = nil
	r := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	switch {
	case hold:
		review.Hold(r, body)
	case len(body) == 0:
		// As pkg/server's limiter hands an empty body to controller-runtime.
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return answer{code: w.Code, body: w.Body.String(), request: rec.last}
}

// pair is controller-runtime's admission.Webhook and the same Webhook served
// by review.Handler, each with its own recorder.
func pair() (cr, ours http.Handler, crRec, ourRec *recorder) {
	crRec, ourRec = &recorder{}, &recorder{}
	return &admission.Webhook{Handler: crRec}, &review.Handler{Webhook: &admission.Webhook{Handler: ourRec}}, crRec, ourRec
}

// requireSame fails unless both handlers saw the same request and answered
// the same bytes; and so does a review.Handler that decodes workloads in its
// pass, but for the object it decoded, which MUST be workload.Decode's.
func requireSame(t testing.TB, body []byte, hold bool, contentType string) {
	t.Helper()
	cr, ours, crRec, ourRec := pair()
	want := serve(t, cr, crRec, body, false, contentType)
	got := serve(t, ours, ourRec, body, hold, contentType)
	if want.code != got.code || want.body != got.body {
		t.Fatalf("answers differ for %q:\ncontroller-runtime: %d %s\nreview.Handler:     %d %s", body, want.code, want.body, got.code, got.body)
	}
	if !reflect.DeepEqual(want.request, got.request) {
		t.Fatalf("requests differ for %q:\ncontroller-runtime: %+v\nreview.Handler:     %+v", body, want.request, got.request)
	}

	typedRec := &recorder{}
	typed := serve(t, &review.Handler{Webhook: &admission.Webhook{Handler: typedRec}, Objects: workload.New}, typedRec, body, hold, contentType)
	if want.code != typed.code || want.body != typed.body {
		t.Fatalf("answers differ for %q:\ncontroller-runtime:          %d %s\nreview.Handler with Objects: %d %s", body, want.code, want.body, typed.code, typed.body)
	}
	if typed.request == nil {
		return
	}
	req := *typed.request
	gvk := schema.GroupVersionKind(req.Kind)
	if obj, ok := review.Object(req.Object, gvk); ok {
		wantObj, err := workload.Decode(gvk, req.Object.Raw)
		if err != nil || !reflect.DeepEqual(wantObj, obj) {
			t.Fatalf("the object decoded in the pass is not workload.Decode's for %q:\n%+v\n%+v (%v)", body, obj, wantObj, err)
		}
		req.Object.Object = nil
	}
	if !reflect.DeepEqual(want.request, &req) {
		t.Fatalf("requests differ for %q:\ncontroller-runtime:          %+v\nreview.Handler with Objects: %+v", body, want.request, &req)
	}
}

// sent is an AdmissionReview as the API server sends one, holding the
// example api Deployment.
func sent(t testing.TB, apiVersion string, op admissionv1.Operation, withOld bool) []byte {
	t.Helper()
	y, err := os.ReadFile("../../examples/api-good.yaml")
	require.NoError(t, err)
	obj, err := yaml.YAMLToJSON(y)
	require.NoError(t, err)
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:         "0d6b1a4e-4c55-4c9b-9d8e-3f0c2a1b7e01",
			Kind:        metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			Resource:    metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
			RequestKind: &metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			Name:        "laminar-api", Namespace: "pipelines", Operation: op,
			UserInfo: authenticationv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"},
				Extra: map[string]authenticationv1.ExtraValue{"scopes": {"a", "b"}}},
			Object:  runtime.RawExtension{Raw: obj},
			DryRun:  ptr.To(false),
			Options: runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl"}`)},
		},
	}
	if withOld {
		ar.Request.OldObject = runtime.RawExtension{Raw: obj}
	}
	b, err := json.Marshal(ar)
	require.NoError(t, err)
	return b
}

// What the API server sends MUST be read in one pass, and the request handed
// on and the answer written MUST be byte for byte controller-runtime's.
func TestHandlerAnswersAsControllerRuntime(t *testing.T) {
	for _, v := range []string{"admission.k8s.io/v1", "admission.k8s.io/v1beta1"} {
		for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete} {
			body := sent(t, v, op, op == admissionv1.Update)
			_, gvk, ok := review.Decode(body, nil)
			require.True(t, ok, "%s %s read in one pass", v, op)
			assert.Equal(t, v, gvk.GroupVersion().String())
			requireSame(t, body, true, "application/json")
		}
	}
}

// Everything else MUST get controller-runtime's own answer: the same bytes,
// errors included.
func TestHandlerLeavesTheRestToControllerRuntime(t *testing.T) {
	good := string(sent(t, "admission.k8s.io/v1", admissionv1.Create, false))
	for name, body := range map[string]string{
		"duplicate member":       strings.Replace(good, `"name":"laminar-api"`, `"name":"x","name":"laminar-api"`, 1),
		"case variant of kind":   strings.Replace(good, `"kind":"AdmissionReview"`, `"kind":"AdmissionReview","KIND":"Pod"`, 1),
		"case-folded apiVersion": strings.Replace(good, `"apiVersion":"admission.k8s.io/v1"`, `"APIVERSION":"admission.k8s.io/v1"`, 1),
		"unknown field":          strings.Replace(good, `"uid":`, `"newField":1,"uid":`, 1),
		"response member":        strings.Replace(good, `"request":`, `"response":{"uid":"x","allowed":true},"request":`, 1),
		"other kind":             strings.Replace(good, `"kind":"AdmissionReview"`, `"kind":"Pod"`, 1),
		"other version":          strings.Replace(good, `admission.k8s.io/v1"`, `admission.k8s.io/v2"`, 1),
		"no apiVersion":          strings.Replace(good, `"apiVersion":"admission.k8s.io/v1",`, ``, 1),
		"invalid UTF-8":          strings.Replace(good, `"pipelines"`, "\"pipe\xfflines\"", 1),
		"wrong type":             strings.Replace(good, `"dryRun":false`, `"dryRun":"no"`, 1),
		"null request":           `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}`,
		"empty object":           `{}`,
		"trailing data":          good + ` {}`,
		"malformed":              good[:len(good)/2],
		"YAML":                   "apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  uid: x\n",
		"array":                  `[]`,
		"panicking handler":      strings.Replace(good, `"name":"laminar-api"`, `"name":"panics"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			requireSame(t, []byte(body), true, "application/json")
		})
	}
	t.Run("not held", func(t *testing.T) { requireSame(t, []byte(good), false, "application/json") })
	t.Run("other content type", func(t *testing.T) { requireSame(t, []byte(good), true, "application/yaml") })
	t.Run("empty body", func(t *testing.T) { requireSame(t, nil, true, "application/json") })
}

// A null request is read in one pass as controller-runtime reads it: empty.
func TestDecodeNullRequest(t *testing.T) {
	req, gvk, ok := review.Decode([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}`), nil)
	require.True(t, ok)
	assert.Equal(t, review.V1, gvk)
	assert.Equal(t, admission.Request{}, req)
}

// The object reaches the handler as its bytes, unchanged.
func TestDecodeKeepsTheObjectsBytes(t *testing.T) {
	body := []byte(`{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","object":{ "b" : [1, 2],"a":"\u00e9"}}}`)
	req, _, ok := review.Decode(body, nil)
	require.True(t, ok)
	assert.Equal(t, `{ "b" : [1, 2],"a":"\u00e9"}`, string(req.Object.Raw))
	assert.Nil(t, req.OldObject.Raw)
	at := bytes.Index(body, req.Object.Raw)
	assert.Same(t, &body[at], &req.Object.Raw[0], "the body's own bytes")
	assert.Equal(t, len(req.Object.Raw), cap(req.Object.Raw), "an append cannot write into the body")
}

// A Deployment's object MUST be decoded in the review's pass when asked, into
// what workload.Decode gives, its bytes still the body's own; the oldObject,
// which often repeats it, stays bytes.
func TestDecodeReadsTheObjectTypedInThePass(t *testing.T) {
	for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update, "indented"} {
		operation := op
		if op == "indented" {
			operation = admissionv1.Update
		}
		body := sent(t, "admission.k8s.io/v1", operation, operation == admissionv1.Update)
		if op == "indented" {
			// Whitespace around the object: its bytes are still the value alone.
			var b bytes.Buffer
			require.NoError(t, json.Indent(&b, body, " ", "\t"))
			body = b.Bytes()
		}
		plain, _, ok := review.Decode(body, nil)
		require.True(t, ok)
		_, decodedWithout := review.Object(plain.Object, workload.DeploymentGVK)
		assert.False(t, decodedWithout, "without objects, nothing is decoded")

		req, _, ok := review.Decode(body, workload.New)
		require.True(t, ok, "%s read in one pass", op)
		obj, ok := review.Object(req.Object, workload.DeploymentGVK)
		require.True(t, ok, "%s: the object decoded in the pass", op)
		want, err := workload.Decode(workload.DeploymentGVK, plain.Object.Raw)
		require.NoError(t, err)
		assert.Equal(t, want, obj)
		assert.Equal(t, string(plain.Object.Raw), string(req.Object.Raw))
		assert.Same(t, &plain.Object.Raw[0], &req.Object.Raw[0], "the body's own bytes")
		assert.Equal(t, len(req.Object.Raw), cap(req.Object.Raw), "an append cannot write into the body")
		_, other := review.Object(req.Object, workload.StatefulSetGVK)
		assert.False(t, other, "asked for another kind")
		_, old := review.Object(req.OldObject, workload.DeploymentGVK)
		assert.False(t, old, "the oldObject stays bytes")
		assert.Equal(t, string(plain.OldObject.Raw), string(req.OldObject.Raw))
		_, copied := review.Object(req.DeepCopy().Object, workload.DeploymentGVK)
		assert.False(t, copied, "a copy of the request holds no decoded object")
	}
}

// What the pass cannot decode typed is left to controller-runtime's path (the
// handler then decodes the bytes as it always did), and what it is not asked
// to decode stays bytes.
func TestDecodeLeavesObjectsItCannotTypeToTheSlowPath(t *testing.T) {
	good := string(sent(t, "admission.k8s.io/v1", admissionv1.Create, false))
	for name, body := range map[string]string{
		"a field apps/v1 does not know": strings.Replace(good, `"replicas":`, `"newField":1,"replicas":`, 1),
		"a value of the wrong type":     strings.Replace(good, `"replicas":`, `"replicas":"3","minReadySeconds":`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, good, body)
			_, _, ok := review.Decode([]byte(body), nil)
			require.True(t, ok, "as bytes, the review is read in one pass")
			_, _, ok = review.Decode([]byte(body), workload.New)
			assert.False(t, ok, "typed, it is not")
			requireSame(t, []byte(body), true, "application/json")
		})
	}
	for name, body := range map[string]string{
		"a kind not asked for":   strings.Replace(good, `"kind":"Deployment"}`, `"kind":"DaemonSet"}`, 1),
		"the kind after it":      strings.Replace(strings.Replace(good, `"kind":{"group":"apps","version":"v1","kind":"Deployment"},`, ``, 1), `"dryRun":`, `"kind":{"group":"apps","version":"v1","kind":"Deployment"},"dryRun":`, 1),
		"an object that is null": strings.Replace(good, `"object":{`, `"object":null,"x":{`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, good, body)
			req, _, ok := review.Decode([]byte(body), workload.New)
			if name == "an object that is null" {
				require.False(t, ok, "no such member as x")
				return
			}
			require.True(t, ok)
			_, decoded := review.Object(req.Object, schema.GroupVersionKind(req.Kind))
			assert.False(t, decoded)
			assert.NotEmpty(t, req.Object.Raw)
			requireSame(t, []byte(body), true, "application/json")
		})
	}
	req, _, ok := review.Decode([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"},"object":null}}`), workload.New)
	require.True(t, ok)
	assert.Nil(t, req.Object.Raw)
	assert.Nil(t, req.Object.Object, "a null object")
	req, _, ok = review.Decode([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"}}}`), workload.New)
	require.True(t, ok)
	assert.Nil(t, req.Object.Object, "no object member")
}

type failingWriter struct {
	http.ResponseWriter
	writes int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, errors.New("broken pipe")
}

// A write that fails is followed by one attempt at a 500 answer, as
// controller-runtime makes.
func TestWriteRetriesOnceWithA500(t *testing.T) {
	w := &failingWriter{ResponseWriter: httptest.NewRecorder()}
	review.Write(w, admission.Allowed(""), review.V1)
	assert.Equal(t, 2, w.writes)
}

// FuzzHandlerAnswersAsControllerRuntime: for any body, review.Handler MUST hand
// the handler the request controller-runtime hands it and answer the same bytes.
func FuzzHandlerAnswersAsControllerRuntime(f *testing.F) {
	for _, v := range []string{"admission.k8s.io/v1", "admission.k8s.io/v1beta1"} {
		f.Add(sent(f, v, admissionv1.Create, false))
		f.Add(sent(f, v, admissionv1.Update, true))
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"K","version":"v"},"object":null}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"UID":"u","uid":"v"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		requireSame(t, body, true, "application/json")
	})
}

// BenchmarkDecode reads an UPDATE review of the example api Deployment in
// one pass, its object left as bytes and decoded typed in the pass.
func BenchmarkDecode(b *testing.B) {
	body := sent(b, "admission.k8s.io/v1", admissionv1.Update, true)
	for name, objects := range map[string]func(schema.GroupVersionKind) runtime.Object{"bytes": nil, "typed": workload.New} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, _, ok := review.Decode(body, objects); !ok {
					b.Fatal("not read in one pass")
				}
			}
		})
	}
}
