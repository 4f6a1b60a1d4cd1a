package admit_test

// FuzzRules generates Laminar Deployments and StatefulSets from the fuzzer's
// bytes — every field a rule reads, with the values that matter (unset, the
// Kubernetes default, the guide's value, too small, too large, malformed) —
// and checks the rule engine and the handlers against properties:
//
//   - nothing panics (every call is direct, with no recovery);
//   - the mutated object round-trips through JSON, the handler's JSON patch
//     applied to the request's JSON gives it, and mutating it again is a no-op;
//   - mutation never introduces a deny violation, never leaves one that a
//     default rule exists to fix (the field still unset), and keeps the promised
//     invariants: maxUnavailable and maxSurge not both 0, requests within
//     limits, the preStop delay shorter than the grace period — unless the
//     object came that way;
//   - a Laminar object the rule engine says breaks a deny rule is never allowed
//     by the validating handler in deny mode on CREATE, nor on an UPDATE from a
//     compliant object, when no exemption is asked for.
//
// Run with `make fuzz` (hack/fuzz.sh); the seeds run in `go test`.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// gen turns fuzzer bytes into choices; past the end every choice is the first.
type gen struct {
	b []byte
	i int
}

func (g *gen) next() int {
	if g.i >= len(g.b) {
		return 0
	}
	c := g.b[g.i]
	g.i++
	return int(c)
}

func (g *gen) intn(n int) int { return g.next() % n }

// chance is true for about percent of the byte values, never for 0 (the
// default past the end).
func (g *gen) chance(percent int) bool {
	return g.next()%100 >= 100-percent
}

func pick[T any](g *gen, xs ...T) T { return xs[g.intn(len(xs))] }

func ptrTo[T any](v T) *T { return &v }

var (
	intOrStrings = []*intstr.IntOrString{nil, ptrTo(intstr.FromInt32(0)), ptrTo(intstr.FromInt32(1)), ptrTo(intstr.FromInt32(2)),
		ptrTo(intstr.FromString("0%")), ptrTo(intstr.FromString("25%")), ptrTo(intstr.FromString("50%")), ptrTo(intstr.FromString("100%")),
		ptrTo(intstr.FromString("30%")), ptrTo(intstr.FromInt32(-1)), ptrTo(intstr.FromString("abc")), ptrTo(intstr.FromString("150%"))}
	cpus     = []string{"", "50m", "500m", "1", "4"}
	memories = []string{"", "64Mi", "512Mi", "1Gi", "8Gi"}
	graces   = []*int64{nil, ptrTo[int64](0), ptrTo[int64](5), ptrTo[int64](10), ptrTo[int64](30), ptrTo[int64](60), ptrTo[int64](300)}
	ruleIDs  = func() []string {
		var ids []string
		for _, r := range rules.All() {
			ids = append(ids, r.Describe().ID)
		}
		return append(ids, "no-such-rule", "exemption-reason")
	}()
)

// genObject builds a Deployment or a StatefulSet; most are Laminar's.
func genObject(g *gen) runtime.Object {
	labels := pick(g,
		map[string]string{"app": "laminar-api"},
		map[string]string{"app": "laminar-controller"},
		map[string]string{"app.kubernetes.io/name": "laminar", "app.kubernetes.io/component": "api"},
		map[string]string{"app.kubernetes.io/name": "laminar", "app.kubernetes.io/component": "controller"},
		map[string]string{"app": "laminar-api", "app.kubernetes.io/name": "laminar", "app.kubernetes.io/component": "controller"},
		map[string]string{"app": "other"},
	)
	meta := metav1.ObjectMeta{Name: "laminar-x", Namespace: "laminar"}
	if g.chance(80) {
		meta.Labels = labels
	}
	if g.chance(15) {
		meta.Annotations = genExemption(g)
	}
	if g.chance(3) {
		meta.DeletionTimestamp = &metav1.Time{Time: time.Unix(1700000000, 0)}
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: genPodSpec(g)}
	replicas := pick(g, nil, ptrTo[int32](0), ptrTo[int32](1), ptrTo[int32](2), ptrTo[int32](3), ptrTo[int32](5))
	selector := &metav1.LabelSelector{MatchLabels: labels}
	if g.intn(2) == 0 {
		d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: replicas, Selector: selector, Template: tmpl}}
		switch g.intn(5) {
		case 1:
			d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
		case 2:
			d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		case 3, 4:
			d.Spec.Strategy.Type = pick(g, appsv1.RollingUpdateDeploymentStrategyType, "")
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{
				MaxUnavailable: pick(g, intOrStrings...), MaxSurge: pick(g, intOrStrings...)}
		}
		return d
	}
	s := &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}, ObjectMeta: meta,
		Spec: appsv1.StatefulSetSpec{Replicas: replicas, Selector: selector, Template: tmpl, ServiceName: "laminar"}}
	for range g.intn(3) {
		pvc := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: pick(g, "data", "rocksdb", "other")},
			Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: pick(g, nil, ptrTo("gp3"), ptrTo("standard"), ptrTo(""))}}
		if size := pick(g, "", "10Gi", "100Gi", "1Ti", "100G"); size != "" {
			pvc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
		}
		s.Spec.VolumeClaimTemplates = append(s.Spec.VolumeClaimTemplates, pvc)
	}
	return s
}

func genExemption(g *gen) map[string]string {
	a := map[string]string{}
	var ids []string
	for range 1 + g.intn(3) {
		ids = append(ids, pick(g, ruleIDs...))
	}
	a[exempt.AnnotationRules] = strings.Join(ids, pick(g, ",", ", ", " "))
	if g.chance(70) {
		a[exempt.AnnotationReason] = pick(g, "load test, INC-1", " ", "")
	}
	if g.chance(40) {
		a[exempt.AnnotationUntil] = pick(g, "2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z", "tomorrow", "")
	}
	return a
}

func genPodSpec(g *gen) corev1.PodSpec {
	spec := corev1.PodSpec{TerminationGracePeriodSeconds: pick(g, graces...)}
	for i := range g.intn(4) {
		spec.Containers = append(spec.Containers, genContainer(g, i))
	}
	switch g.intn(6) {
	case 1:
		spec.Affinity = &corev1.Affinity{}
	case 2:
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{}}
	case 3:
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: genTerm(g)}}}}
	case 4:
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{genTerm(g)}}}
	case 5:
		spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
	}
	for range g.intn(3) {
		spec.TopologySpreadConstraints = append(spec.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: int32(pick(g, 1, 2, 0)), TopologyKey: pick(g, "topology.kubernetes.io/zone", "kubernetes.io/hostname"),
			WhenUnsatisfiable: pick(g, corev1.DoNotSchedule, corev1.ScheduleAnyway),
			LabelSelector:     pick(g, nil, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-api"}}, &metav1.LabelSelector{}),
		})
	}
	for range g.intn(3) {
		v := corev1.Volume{Name: pick(g, "data", "rocksdb", "tmp")}
		switch g.intn(3) {
		case 0:
			v.EmptyDir = &corev1.EmptyDirVolumeSource{}
		case 1:
			v.HostPath = &corev1.HostPathVolumeSource{Path: "/var/lib/laminar"}
		case 2:
			v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}
		}
		spec.Volumes = append(spec.Volumes, v)
	}
	return spec
}

func genTerm(g *gen) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{
		TopologyKey: pick(g, "kubernetes.io/hostname", "topology.kubernetes.io/zone", ""),
		LabelSelector: pick(g, nil, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-api"}},
			&metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-controller"}},
			&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"laminar-api"}}}}),
	}
}

func genContainer(g *gen, i int) corev1.Container {
	c := corev1.Container{Name: pick(g, "api", "controller", "sidecar", fmt.Sprintf("c%d", i)), Image: "laminar/x:1"}
	c.LivenessProbe, c.ReadinessProbe, c.StartupProbe = genProbe(g), genProbe(g), genProbe(g)
	for _, r := range []struct {
		name   corev1.ResourceName
		values []string
	}{{corev1.ResourceCPU, cpus}, {corev1.ResourceMemory, memories}} {
		if v := pick(g, r.values...); v != "" {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[r.name] = resource.MustParse(v)
		}
		if v := pick(g, r.values...); v != "" {
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			c.Resources.Limits[r.name] = resource.MustParse(v)
		}
	}
	switch g.intn(6) {
	case 1:
		c.Lifecycle = &corev1.Lifecycle{}
	case 2:
		c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
			Command: []string{"/bin/sh", "-c", "sleep " + pick(g, "5", "10", "30", "60", "x", "")}}}}
	case 3:
		c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: int64(pick(g, 0, 5, 10, 60, 120))}}}
	case 4:
		c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/drain", Port: intstr.FromInt32(8000)}}}
	case 5:
		c.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	}
	for range g.intn(4) {
		c.Args = append(c.Args, pick(g, "--leader-elect", "--leader-elect=true", "--leader-elect=false", "--leader-elect=maybe",
			"--leader-elect-lease-duration=15s", "--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=10s",
			"--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=2s", "--leader-elect-retry-period=abc",
			"--checkpoint-url=s3://bucket/ckpt", "--checkpoint-url=file:///var/lib", "--checkpoint-url", "gs://b",
			"--checkpoint-interval=10s", "--checkpoint-interval=5m", "--checkpoint-interval=-1s", "-v=2"))
	}
	if g.chance(30) {
		c.Env = append(c.Env, corev1.EnvVar{Name: pick(g, "LAMINAR_CHECKPOINT_URL", "LAMINAR_CHECKPOINT_INTERVAL", "OTHER"),
			Value: pick(g, "s3://b", "/tmp/x", "45s", "")})
	}
	for range g.intn(2) {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: pick(g, "data", "rocksdb", "tmp"), MountPath: "/var/lib/laminar"})
	}
	return c
}

func genProbe(g *gen) *corev1.Probe {
	switch g.intn(5) {
	case 1:
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: pick(g, "/health", "/ready", "/"), Port: intstr.FromInt32(int32(pick(g, 8000, 9000)))}},
			InitialDelaySeconds: int32(pick(g, 0, 5, 30)), PeriodSeconds: int32(pick(g, 0, 5, 10)), FailureThreshold: int32(pick(g, 0, 3, 30))}
	case 2:
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8000)}}}
	case 3:
		return &corev1.Probe{}
	}
	return nil
}

// fixers maps a deny check to the default rule that exists to satisfy it, and
// says whether the field that rule fills is still unset: if so after mutation
// (and the default rule was not exempted), the default failed to do its job.
var fixers = map[string]struct {
	defaultID string
	unset     func(w *workload.Workload, p *policy.Policy) bool
}{
	"api-readiness-probe": {"set-api-readiness-probe", func(w *workload.Workload, p *policy.Policy) bool {
		c, _ := w.MainContainer(p.API.ContainerName)
		return c != nil && c.ReadinessProbe == nil
	}},
	"api-liveness-probe": {"set-api-liveness-probe", func(w *workload.Workload, p *policy.Policy) bool {
		c, _ := w.MainContainer(p.API.ContainerName)
		return c != nil && c.LivenessProbe == nil
	}},
	"api-anti-affinity": {"set-api-anti-affinity", func(w *workload.Workload, _ *policy.Policy) bool {
		a := w.Template.Spec.Affinity
		return a == nil || a.PodAntiAffinity == nil
	}},
	"api-zone-spread": {"set-api-zone-spread", func(w *workload.Workload, _ *policy.Policy) bool {
		return len(w.Template.Spec.TopologySpreadConstraints) == 0
	}},
	"api-strategy-rolling": {"set-api-strategy", func(w *workload.Workload, _ *policy.Policy) bool {
		return w.Deployment != nil && w.Deployment.Spec.Strategy.Type == ""
	}},
	"controller-anti-affinity": {"set-controller-anti-affinity", func(w *workload.Workload, _ *policy.Policy) bool {
		a := w.Template.Spec.Affinity
		return a == nil || a.PodAntiAffinity == nil
	}},
}

func init() { ctrllog.SetLogger(logr.Discard()) }

func FuzzRules(f *testing.F) {
	for _, seed := range []string{
		"", "\x00", "\x01", "\x02\x00\x01", "\x00\x00\x01\x03\x04", "\x01\x01\x00\x00\x02\x02\x02",
		"\x00\x00\x00\x00\x00\x04\x03\x05\x05\x01\x01\x02\x02\x03\x01",
		"\x01\x00\x00\x00\x00\x02\x00\x03\x01\x01\x02\x03\x04\x05\x06\x07",
		strings.Repeat("\x03", 64), strings.Repeat("\x07\x01", 64), strings.Repeat("\xff\x10\x33", 50),
	} {
		f.Add([]byte(seed))
	}
	p := policy.Default()
	mutator := admit.NewMutator(admit.Config{Policy: admit.Static(p), Clock: func() time.Time { return testNow }})
	validator := admit.NewValidator(admit.Config{Policy: admit.Static(p), Clock: func() time.Time { return testNow }})
	f.Fuzz(func(t *testing.T, data []byte) {
		obj := genObject(&gen{b: data})
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		checkMutation(t, obj, raw, p, mutator)
		checkVerdict(t, obj, raw, p, validator)
	})
}

func gvkOf(obj runtime.Object) metav1.GroupVersionKind {
	if _, ok := obj.(*appsv1.Deployment); ok {
		return metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	}
	return metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
}

func fuzzRequest(op admissionv1.Operation, obj runtime.Object, raw, old []byte) admission.Request {
	gvk := gvkOf(obj)
	r := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "fuzz", Kind: gvk, Resource: metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: strings.ToLower(gvk.Kind) + "s"},
		Name: "laminar-x", Namespace: "laminar", Operation: op,
	}}
	r.Object.Raw = raw
	r.OldObject.Raw = old
	return r
}

func checkMutation(t *testing.T, obj runtime.Object, raw []byte, p *policy.Policy, mutator *admit.Handler) {
	res, err := mutate.Object(obj, raw, p, rules.Situation{Now: testNow})
	if err != nil {
		t.Fatalf("mutate: %v", err)
	}
	// Round trip.
	out, err := json.Marshal(res.Object)
	if err != nil {
		t.Fatalf("encode mutated: %v", err)
	}
	back := res.Object.DeepCopyObject()
	if err := json.Unmarshal(out, zeroed(back)); err != nil || !equality.Semantic.DeepEqual(back, res.Object) {
		t.Fatalf("the mutated object does not survive a JSON round trip (%v)", err)
	}
	// Idempotence.
	again, err := mutate.Object(res.Object, out, p, rules.Situation{Now: testNow})
	if err != nil {
		t.Fatalf("mutate again: %v", err)
	}
	if len(again.Patch) > 0 || len(again.Applied) > 0 {
		t.Fatalf("mutating the mutated object changes it again: %v %v", again.Applied, again.Patch)
	}
	// The handler's patch gives the same object from the request's JSON.
	resp := mutator.Handle(context.Background(), fuzzRequest(admissionv1.Create, obj, raw, nil))
	if !resp.Allowed {
		t.Fatalf("the mutating handler refused: %v", resp.Result)
	}
	patched := raw
	if len(resp.Patch) > 0 {
		ops := resp.Patch
		jp, err := jsonpatch.DecodePatch(ops)
		if err != nil {
			t.Fatalf("undecodable patch: %v", err)
		}
		if patched, err = jp.Apply(raw); err != nil {
			t.Fatalf("the patch does not apply: %v\n%s", err, ops)
		}
	}
	fromPatch := obj.DeepCopyObject()
	if err := json.Unmarshal(patched, zeroed(fromPatch)); err != nil {
		t.Fatal(err)
	}
	w, laminar := workload.FromObject(obj)
	if !laminar || w.Meta.DeletionTimestamp != nil {
		if len(resp.Patch) > 0 {
			t.Fatalf("patched an object it does not judge")
		}
		return
	}
	if !equality.Semantic.DeepEqual(fromPatch, res.Object) {
		t.Fatalf("request JSON + patch differs from the mutated object\npatched: %s\nmutated: %s", patched, out)
	}

	mw, _ := workload.FromObject(res.Object)
	ex := exempt.Read(w.Meta.Annotations)
	// Mutation introduces no deny violation. Compared by rule, not field: a
	// check may report the same fault at another field once defaults are added
	// (the leader-election timing names the last timing flag present).
	before := map[string]bool{}
	for _, v := range judged(w, p).Findings {
		before[v.RuleID] = true
	}
	for _, v := range judged(mw, p).Findings {
		if v.Action == rules.ActionDeny && !before[v.RuleID] {
			t.Fatalf("mutation introduced a violation: %v", v.Err)
		}
		if fx, ok := fixers[v.RuleID]; ok && !ex.Covers(fx.defaultID, testNow) && fx.unset(mw, p) {
			if r, _ := rules.ByID(fx.defaultID); r.(*rules.Default).AppliesTo(mw) {
				t.Fatalf("%s left %v although %s fills it", v.RuleID, v.Err.Field, fx.defaultID)
			}
		}
	}
	checkInvariants(t, w, mw, p)
}

// checkInvariants: what the defaults promise about the mutated object, unless
// the input already broke it.
func checkInvariants(t *testing.T, in, out *workload.Workload, p *policy.Policy) {
	if in.Deployment != nil && bothZero(out.Deployment) && !bothZero(in.Deployment) {
		t.Fatalf("mutation made maxUnavailable and maxSurge both 0")
	}
	inC, _ := in.MainContainer(p.API.ContainerName)
	outC, _ := out.MainContainer(p.API.ContainerName)
	if outC != nil {
		for name, req := range outC.Resources.Requests {
			lim, ok := outC.Resources.Limits[name]
			if ok && req.Cmp(lim) > 0 {
				if orig, had := inC.Resources.Requests[name]; !had || orig.Cmp(req) != 0 {
					t.Fatalf("mutation set a %s request %s above the limit %s", name, req.String(), lim.String())
				}
			}
		}
		if outC.Lifecycle != nil && outC.Lifecycle.PreStop != nil && (inC.Lifecycle == nil || inC.Lifecycle.PreStop == nil) {
			grace := int64(30)
			if g := out.Template.Spec.TerminationGracePeriodSeconds; g != nil {
				grace = *g
			}
			if d := p.API.PreStop.Seconds; d >= grace {
				t.Fatalf("mutation added a %ds preStop delay to a %ds grace period", d, grace)
			}
		}
	}
}

func bothZero(d *appsv1.Deployment) bool {
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType || ru == nil || ru.MaxSurge == nil || ru.MaxUnavailable == nil {
		return false
	}
	zero := func(v *intstr.IntOrString) bool {
		n, err := intstr.GetScaledValueFromIntOrPercent(v, 100, true)
		return err == nil && n == 0
	}
	return zero(ru.MaxSurge) && zero(ru.MaxUnavailable)
}

// checkVerdict: never allowed by accident.
func checkVerdict(t *testing.T, obj runtime.Object, raw []byte, p *policy.Policy, validator *admit.Handler) {
	w, laminar := workload.FromObject(obj)
	create := validator.Handle(context.Background(), fuzzRequest(admissionv1.Create, obj, raw, nil))
	if create.UID != "" && create.UID != "fuzz" {
		t.Fatalf("answer uid %q", create.UID)
	}
	if !laminar || w.Meta.DeletionTimestamp != nil {
		if !create.Allowed {
			t.Fatalf("denied an object it does not judge: %v", create.Result)
		}
		return
	}
	denials := judged(w, p).Denials()
	_, exemptionAsked := w.Meta.Annotations[exempt.AnnotationRules]
	if len(denials) == 0 || exemptionAsked {
		return
	}
	if create.Allowed {
		t.Fatalf("CREATE allowed although the rules deny it: %v", denials.ToAggregate())
	}
	if create.Result == nil || create.Result.Code != 422 || create.Result.Details == nil || len(create.Result.Details.Causes) < len(denials) {
		t.Fatalf("a denial without every cause: %v", create.Result)
	}
	// An UPDATE from a compliant object ratchets nothing.
	old := compliant(t, w.Kind, w.Role, p)
	if old == nil {
		return
	}
	update := validator.Handle(context.Background(), fuzzRequest(admissionv1.Update, obj, raw, old))
	if update.Allowed {
		t.Fatalf("UPDATE from a compliant object allowed although the rules deny it: %v", denials.ToAggregate())
	}
}

var compliantCache = map[string][]byte{}

// compliant is a mutated minimal workload of the kind and role with no deny
// violation, or nil when the combination has none (a controller Deployment).
func compliant(t *testing.T, kind string, role workload.Role, p *policy.Policy) []byte {
	key := kind + "/" + string(role)
	if b, ok := compliantCache[key]; ok {
		return b
	}
	labels := map[string]string{"app": "laminar-" + string(role)}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: string(role), Image: "x", Args: []string{"--checkpoint-url=s3://b/c"},
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}}}}
	var obj runtime.Object
	if kind == workload.KindDeployment {
		obj = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "c", Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: ptrTo[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}}
	} else {
		obj = &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "c", Labels: labels},
			Spec: appsv1.StatefulSetSpec{Replicas: ptrTo[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl,
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
					Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptrTo("gp3"),
						Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("100Gi")}}}}}}}
	}
	res, err := mutate.Object(obj, nil, p, rules.Situation{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	mw, _ := workload.FromObject(res.Object)
	var out []byte
	if len(judged(mw, p).Denials()) == 0 {
		if out, err = json.Marshal(res.Object); err != nil {
			t.Fatal(err)
		}
	} else if !slices.Contains([]string{"Deployment/controller", "StatefulSet/api"}, key) {
		t.Fatalf("the compliant %s is not: %v", key, judged(mw, p).Denials().ToAggregate())
	}
	compliantCache[key] = out
	return out
}

// zeroed resets obj to its zero value, for decoding into.
func zeroed(obj runtime.Object) runtime.Object {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		*o = appsv1.Deployment{}
	case *appsv1.StatefulSet:
		*o = appsv1.StatefulSet{}
	}
	return obj
}

// testNow is the time the engines and handlers judge at in these tests; the
// fuzzed exemption dates lie decades either side of it.
var testNow = time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)

// judged is the validating engine's decision on w as a CREATE at testNow.
func judged(w *workload.Workload, p *policy.Policy) validate.Decision {
	c := validate.Context{Mode: policy.ModeDeny}
	c.Ctx, c.Now = context.Background(), testNow
	return validate.Judge(w, p, c)
}
