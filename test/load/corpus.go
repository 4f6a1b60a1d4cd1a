package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// FixtureGlobs are the manifests the review mix is built from (relative to the
// repository root). Documents that are not apps/v1 Deployments or StatefulSets
// are skipped.
var FixtureGlobs = []string{"test/testdata/mutate/*.yaml", "test/testdata/admission/*.yaml", "examples/*.yaml"}

// Namespace is where every review's object lives.
const Namespace = "laminar"

// Review is one AdmissionReview of the mix, as the API server would send it,
// with what laminar-ha-webhook answers (worked out in-process by the same
// handlers, so the load run can check every answer).
type Review struct {
	Name string // e.g. "mutate CREATE api-minimal"
	Path string // /mutate or /validate
	UID  string
	Body []byte
	// WantAllowed and WantPatch are laminar-ha-webhook's answer; the no-op
	// webhook allows everything without a patch.
	WantAllowed, WantPatch bool
}

// Corpus is the mix, in the order it is sent (round robin).
type Corpus struct {
	Reviews []Review
}

// Summary says what the mix holds.
func (c Corpus) Summary() string {
	counts := map[string]int{}
	total := 0
	for _, r := range c.Reviews {
		key := strings.Fields(r.Name)[0] + " "
		switch {
		case !r.WantAllowed:
			key += "denied"
		case r.WantPatch:
			key += "patched"
		default:
			key += "allowed"
		}
		counts[key]++
		total += len(r.Body)
	}
	var parts []string
	for k, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d AdmissionReviews (%s), mean body %.1f KiB", len(c.Reviews), strings.Join(parts, ", "),
		float64(total)/float64(max(1, len(c.Reviews)))/1024)
}

// fixture is one workload manifest of the repository.
type fixture struct {
	name string
	user []byte // as written, in JSON
	obj  runtime.Object
}

func loadFixtures(root string) ([]fixture, error) {
	var out []fixture
	for _, g := range FixtureGlobs {
		files, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if strings.HasSuffix(f, ".golden.yaml") || strings.HasSuffix(f, ".policy.yaml") {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			obj, gvk, err := manifest.Decode(raw)
			if err != nil || obj == nil {
				continue // not a workload (PodDisruptionBudgets)
			}
			obj.GetObjectKind().SetGroupVersionKind(gvk)
			user, err := json.Marshal(obj)
			if err != nil {
				return nil, err
			}
			out = append(out, fixture{name: strings.TrimSuffix(filepath.Base(f), ".yaml"), user: user, obj: obj})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workload fixtures under %s (%s)", root, strings.Join(FixtureGlobs, ", "))
	}
	return out, nil
}

// BuildCorpus makes the mix from the repository's fixtures. For every workload:
//   - mutate CREATE of the object as the API server sends it after defaulting
//     (see shape), then
//   - validate CREATE of what mutation made of it (the patch applied, defaults
//     filled in again),
//   - and, for objects the webhook admits, mutate and validate UPDATE of the
//     admitted object with itself as oldObject: a re-apply with no change, what
//     GitOps tools send on every sync.
//
// Non-compliant fixtures give denials, unrelated Deployments quick allows.
func BuildCorpus(root string) (Corpus, error) {
	fixtures, err := loadFixtures(root)
	if err != nil {
		return Corpus{}, err
	}
	p := admit.Static(policy.Default())
	mutator := &admission.Webhook{Handler: admit.NewMutator(admit.Config{Policy: p})}
	validator := &admission.Webhook{Handler: admit.NewValidator(admit.Config{Policy: p})}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var c Corpus
	add := func(wh http.Handler, path, name string, op admissionv1.Operation, kind string, obj, old []byte) (admissionv1.AdmissionResponse, error) {
		uid := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(c.Reviews)+1)
		body, err := reviewBody(uid, op, kind, obj, old)
		if err != nil {
			return admissionv1.AdmissionResponse{}, err
		}
		resp, err := answer(wh, body)
		if err != nil {
			return admissionv1.AdmissionResponse{}, fmt.Errorf("%s: %w", name, err)
		}
		c.Reviews = append(c.Reviews, Review{Name: name, Path: path, UID: uid, Body: body, WantAllowed: resp.Allowed, WantPatch: len(resp.Patch) > 0})
		return resp, nil
	}
	for i, f := range fixtures {
		kind := f.obj.GetObjectKind().GroupVersionKind().Kind
		created, err := shape(f.obj, f.user, fmt.Sprintf("5b7a1c3e-0000-4000-8000-%012d", i+1), now)
		if err != nil {
			return Corpus{}, err
		}
		mresp, err := add(mutator, "/mutate", "mutate CREATE "+f.name, admissionv1.Create, kind, created, nil)
		if err != nil {
			return Corpus{}, err
		}
		mutated := created
		if len(mresp.Patch) > 0 {
			patch, err := jsonpatch.DecodePatch(mresp.Patch)
			if err != nil {
				return Corpus{}, err
			}
			if mutated, err = patch.Apply(created); err != nil {
				return Corpus{}, fmt.Errorf("%s: apply the webhook's patch: %w", f.name, err)
			}
			// The API server defaults the patched object again (probe timeouts, ...).
			obj, err := workload.Decode(f.obj.GetObjectKind().GroupVersionKind(), mutated)
			if err != nil {
				return Corpus{}, err
			}
			obj.GetObjectKind().SetGroupVersionKind(f.obj.GetObjectKind().GroupVersionKind())
			applyDefaults(obj)
			if mutated, err = json.Marshal(obj); err != nil {
				return Corpus{}, err
			}
		}
		vresp, err := add(validator, "/validate", "validate CREATE "+f.name, admissionv1.Create, kind, mutated, nil)
		if err != nil {
			return Corpus{}, err
		}
		if !vresp.Allowed {
			continue
		}
		stored, err := asStored(mutated)
		if err != nil {
			return Corpus{}, err
		}
		if _, err := add(mutator, "/mutate", "mutate UPDATE "+f.name, admissionv1.Update, kind, stored, stored); err != nil {
			return Corpus{}, err
		}
		if _, err := add(validator, "/validate", "validate UPDATE "+f.name, admissionv1.Update, kind, stored, stored); err != nil {
			return Corpus{}, err
		}
	}
	return c, nil
}

// reviewBody writes an AdmissionReview v1 request as the API server does.
func reviewBody(uid string, op admissionv1.Operation, kind string, obj, old []byte) ([]byte, error) {
	var meta struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(obj, &meta); err != nil {
		return nil, err
	}
	resource := strings.ToLower(kind) + "s"
	gvk := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind}
	gvr := metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: resource}
	var options any = metav1.CreateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "CreateOptions"}, FieldManager: "kubectl-client-side-apply"}
	if op == admissionv1.Update {
		options = metav1.UpdateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "UpdateOptions"}, FieldManager: "kubectl-client-side-apply"}
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID(uid), Kind: gvk, Resource: gvr, RequestKind: &gvk, RequestResource: &gvr,
			Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace, Operation: op,
			UserInfo: authenticationv1.UserInfo{
				Username: "alice@example.com",
				UID:      "6f0b7b3e-8d1f-4e52-9a3c-1d2e3f405162",
				Groups:   []string{"platform-team", "system:authenticated"},
				Extra:    map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/credential-id": {"X509SHA256=4f2d1c"}},
			},
			Object:  runtime.RawExtension{Raw: obj},
			DryRun:  ptr.To(false),
			Options: runtime.RawExtension{Raw: opts},
		},
	}
	if old != nil {
		ar.Request.OldObject = runtime.RawExtension{Raw: old}
	}
	return json.Marshal(ar)
}

// answer runs one review through a webhook handler in-process.
func answer(wh http.Handler, body []byte) (admissionv1.AdmissionResponse, error) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, req.WithContext(context.Background()))
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &ar); err != nil || ar.Response == nil {
		return admissionv1.AdmissionResponse{}, fmt.Errorf("unreadable answer %q: %v", rec.Body.String(), err)
	}
	if ar.Response.Result != nil && (ar.Response.Result.Code == http.StatusBadRequest || ar.Response.Result.Code >= 500) {
		return admissionv1.AdmissionResponse{}, fmt.Errorf("webhook error: %s", ar.Response.Result.Message)
	}
	return *ar.Response, nil
}

// shape makes a workload look the way the API server hands it to admission on
// CREATE: metadata it sets (uid, creationTimestamp, generation, managedFields
// of a client-side kubectl apply and its last-applied annotation), the
// defaults of apps/v1 and core/v1, and an empty status.
func shape(obj runtime.Object, user []byte, uid string, now time.Time) ([]byte, error) {
	obj = obj.DeepCopyObject()
	w, _ := workload.FromObject(obj)
	var meta *metav1.ObjectMeta
	if w != nil {
		meta = w.Meta
	} else if m, ok := obj.(metav1.ObjectMetaAccessor); ok {
		meta = m.GetObjectMeta().(*metav1.ObjectMeta)
	}
	if meta.Namespace == "" {
		meta.Namespace = Namespace
	}
	meta.UID = types.UID(uid)
	meta.CreationTimestamp = metav1.NewTime(now)
	meta.Generation = 1
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = string(user) + "\n"
	var userMap map[string]any
	if err := json.Unmarshal(user, &userMap); err != nil {
		return nil, err
	}
	delete(userMap, "status")
	userMap["metadata"] = map[string]any{
		"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": ""},
		"labels":      userMapLabels(userMap),
	}
	fields, err := json.Marshal(managedFields(userMap))
	if err != nil {
		return nil, err
	}
	meta.ManagedFields = []metav1.ManagedFieldsEntry{{
		Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1",
		Time: &meta.CreationTimestamp, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(fields)),
	}}
	applyDefaults(obj)
	return json.Marshal(obj)
}

func userMapLabels(m map[string]any) any {
	if md, ok := m["metadata"].(map[string]any); ok && md["labels"] != nil {
		return md["labels"]
	}
	return map[string]any{}
}

// asStored is the admitted object as it is read back: with a resourceVersion.
func asStored(obj []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		md["resourceVersion"] = "48151623"
	}
	return json.Marshal(m)
}

// managedFields writes the FieldsV1 set of a user's manifest, as the API server
// records it: "f:" for fields, "k:{...}" for list items with a name, "." for the
// item itself.
func managedFields(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range c {
			if k == "apiVersion" || k == "kind" {
				continue
			}
			out["f:"+k] = managedFields(x)
		}
		if len(out) > 0 {
			out["."] = map[string]any{}
		}
		return out
	case []any:
		out := map[string]any{}
		for _, it := range c {
			m, ok := it.(map[string]any)
			if !ok {
				continue
			}
			var key string
			switch {
			case m["name"] != nil:
				key = fmt.Sprintf(`k:{"name":%q}`, m["name"])
			case m["containerPort"] != nil:
				key = fmt.Sprintf(`k:{"containerPort":%v,"protocol":"TCP"}`, m["containerPort"])
			default:
				continue
			}
			sub := managedFields(m).(map[string]any)
			sub["."] = map[string]any{}
			out[key] = sub
		}
		return out
	}
	return map[string]any{}
}

// applyDefaults fills in what the API server's defaulting fills in for apps/v1
// Deployments and StatefulSets and their pod templates.
func applyDefaults(obj runtime.Object) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		s := &o.Spec
		if s.Replicas == nil {
			s.Replicas = ptr.To[int32](1)
		}
		if s.Strategy.Type == "" {
			s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		}
		if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
			if s.Strategy.RollingUpdate == nil {
				s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
			}
			quarter := intstr.FromString("25%")
			if s.Strategy.RollingUpdate.MaxUnavailable == nil {
				s.Strategy.RollingUpdate.MaxUnavailable = &quarter
			}
			if s.Strategy.RollingUpdate.MaxSurge == nil {
				s.Strategy.RollingUpdate.MaxSurge = &quarter
			}
		}
		if s.RevisionHistoryLimit == nil {
			s.RevisionHistoryLimit = ptr.To[int32](10)
		}
		if s.ProgressDeadlineSeconds == nil {
			s.ProgressDeadlineSeconds = ptr.To[int32](600)
		}
		defaultPodTemplate(&s.Template)
	case *appsv1.StatefulSet:
		s := &o.Spec
		if s.Replicas == nil {
			s.Replicas = ptr.To[int32](1)
		}
		if s.PodManagementPolicy == "" {
			s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
		}
		if s.UpdateStrategy.Type == "" {
			s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		}
		if s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)}
		}
		if s.RevisionHistoryLimit == nil {
			s.RevisionHistoryLimit = ptr.To[int32](10)
		}
		if s.PersistentVolumeClaimRetentionPolicy == nil {
			s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			}
		}
		for i := range s.VolumeClaimTemplates {
			t := &s.VolumeClaimTemplates[i]
			t.APIVersion, t.Kind = "v1", "PersistentVolumeClaim"
			if t.Spec.VolumeMode == nil {
				t.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
			}
			if t.Status.Phase == "" {
				t.Status.Phase = corev1.ClaimPending
			}
		}
		defaultPodTemplate(&s.Template)
	}
}

func defaultPodTemplate(t *corev1.PodTemplateSpec) {
	s := &t.Spec
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr.To[int64](30)
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.Volumes {
		v := &s.Volumes[i].VolumeSource
		if v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil {
			v.ConfigMap.DefaultMode = ptr.To[int32](0o644)
		}
		if v.Secret != nil && v.Secret.DefaultMode == nil {
			v.Secret.DefaultMode = ptr.To[int32](0o644)
		}
	}
}

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		if !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") || strings.HasSuffix(c.Image, ":latest") {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		if p.TimeoutSeconds == 0 {
			p.TimeoutSeconds = 1
		}
		if p.PeriodSeconds == 0 {
			p.PeriodSeconds = 10
		}
		if p.SuccessThreshold == 0 {
			p.SuccessThreshold = 1
		}
		if p.FailureThreshold == 0 {
			p.FailureThreshold = 3
		}
		if p.HTTPGet != nil && p.HTTPGet.Scheme == "" {
			p.HTTPGet.Scheme = corev1.URISchemeHTTP
		}
	}
	if c.Lifecycle != nil {
		for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PreStop, c.Lifecycle.PostStart} {
			if h != nil && h.HTTPGet != nil && h.HTTPGet.Scheme == "" {
				h.HTTPGet.Scheme = corev1.URISchemeHTTP
			}
		}
	}
}
