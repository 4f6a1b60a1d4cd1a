package rules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Builders for test objects. apiDeployment and controllerStatefulSet start from an
// object that passes every check and that no defaulter changes; each mod then breaks
// or varies one thing. The minimal* builders carry only labels and one container.

const (
	testCheckpointURL = "s3://bucket/laminar/checkpoints"
	rocksDBMountPath  = "/var/lib/laminar"
)

var (
	apiLabels        = map[string]string{"app": "laminar-api"}
	controllerLabels = map[string]string{"app": "laminar-controller"}
	// Recommended (app.kubernetes.io) labels select the role as well.
	apiRecommendedLabels        = map[string]string{"app.kubernetes.io/name": "laminar", "app.kubernetes.io/component": "api"}
	controllerRecommendedLabels = map[string]string{"app.kubernetes.io/name": "laminar", "app.kubernetes.io/component": "controller"}
)

func cloneLabels(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

func i32(v int32) *int32   { return &v }
func i64(v int64) *int64   { return &v }
func str(v string) *string { return &v }
func intOrStr(v intstr.IntOrString) *intstr.IntOrString {
	return &v
}

func pctStr(s string) *intstr.IntOrString { return intOrStr(intstr.FromString(s)) }
func intVal(n int32) *intstr.IntOrString  { return intOrStr(intstr.FromInt32(n)) }

func labelSelector(l map[string]string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: cloneLabels(l)}
}

// guideProbe is the probe the guide (and the default policy) asks for, spelled out
// with the fields the API server would default.
func guideProbe(path string, delay, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intstr.FromInt32(8000), Scheme: corev1.URISchemeHTTP,
		}},
		InitialDelaySeconds: delay,
		PeriodSeconds:       period,
		FailureThreshold:    failures,
		TimeoutSeconds:      1,
		SuccessThreshold:    1,
	}
}

func execPreStop(cmd ...string) *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: cmd}}
}

func sleepPreStop(secs int64) *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: secs}}
}

// compliantAPIContainer is the guide's api container.
func compliantAPIContainer() corev1.Container {
	return corev1.Container{
		Name:  "api",
		Image: "ghcr.io/laminar/laminar:1.0.0",
		Args:  []string{"api"},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("500m"),
			corev1.ResourceMemory: resource.MustParse("512Mi"),
		}},
		LivenessProbe:  guideProbe("/health", 30, 10, 3),
		ReadinessProbe: guideProbe("/ready", 5, 5, 3),
		StartupProbe:   guideProbe("/health", 10, 10, 30),
		Lifecycle:      &corev1.Lifecycle{PreStop: execPreStop("/bin/sh", "-c", "sleep 10")},
	}
}

// apiDeployment is a Deployment that follows every line of the guide for the api.
func apiDeployment(mods ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api", Namespace: "laminar", Labels: cloneLabels(apiLabels)},
		Spec: appsv1.DeploymentSpec{
			Replicas: i32(3),
			Selector: labelSelector(apiLabels),
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: intVal(0), MaxSurge: intVal(1)},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: cloneLabels(apiLabels)},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: i64(60),
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								LabelSelector: labelSelector(apiLabels),
								TopologyKey:   "kubernetes.io/hostname",
							},
						}},
					}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew:           1,
						TopologyKey:       "topology.kubernetes.io/zone",
						WhenUnsatisfiable: corev1.DoNotSchedule,
						LabelSelector:     labelSelector(apiLabels),
					}},
					Containers: []corev1.Container{compliantAPIContainer()},
				},
			},
		},
	}
	for _, m := range mods {
		m(d)
	}
	return d
}

// minimalAPIDeployment carries only the Laminar labels and one container.
func minimalAPIDeployment(mods ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api", Labels: cloneLabels(apiLabels)},
		Spec: appsv1.DeploymentSpec{
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: cloneLabels(apiLabels)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "ghcr.io/laminar/laminar:1.0.0"}}},
			},
		},
	}
	for _, m := range mods {
		m(d)
	}
	return d
}

// apiStatefulSet is the api run, wrongly, as a StatefulSet.
func apiStatefulSet(mods ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	d := apiDeployment()
	s := &appsv1.StatefulSet{
		ObjectMeta: d.ObjectMeta,
		Spec: appsv1.StatefulSetSpec{
			Replicas:    d.Spec.Replicas,
			Selector:    d.Spec.Selector,
			ServiceName: "laminar-api",
			Template:    d.Spec.Template,
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

// compliantControllerArgs are the controller flags of the compliant StatefulSet.
func compliantControllerArgs() []string {
	return []string{
		"controller",
		"--leader-elect=true",
		"--leader-elect-lease-duration=15s",
		"--leader-elect-renew-deadline=10s",
		"--leader-elect-retry-period=2s",
		"--checkpoint-url=" + testCheckpointURL,
	}
}

func rocksDBClaim(name string, class *string, size string) corev1.PersistentVolumeClaim {
	c := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: class,
		},
	}
	if size != "" {
		c.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
	}
	return c
}

// controllerStatefulSet is a StatefulSet that follows every line of the guide for the controller.
func controllerStatefulSet(mods ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-controller", Namespace: "laminar", Labels: cloneLabels(controllerLabels)},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    i32(3),
			Selector:    labelSelector(controllerLabels),
			ServiceName: "laminar-controller",
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: cloneLabels(controllerLabels)},
				Spec: corev1.PodSpec{
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
							LabelSelector: labelSelector(controllerLabels),
							TopologyKey:   "kubernetes.io/hostname",
						}},
					}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule,
						LabelSelector: labelSelector(controllerLabels),
					}},
					Containers: []corev1.Container{{
						Name:         "controller",
						Image:        "ghcr.io/laminar/laminar:1.0.0",
						Args:         compliantControllerArgs(),
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: rocksDBMountPath}},
					}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

// minimalControllerStatefulSet carries only the Laminar labels and one container.
func minimalControllerStatefulSet(mods ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-controller", Labels: cloneLabels(controllerLabels)},
		Spec: appsv1.StatefulSetSpec{
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: cloneLabels(controllerLabels)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "ghcr.io/laminar/laminar:1.0.0"}}},
			},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

// controllerDeployment is the controller run, wrongly, as a Deployment.
func controllerDeployment(mods ...func(*appsv1.Deployment)) *appsv1.Deployment {
	s := controllerStatefulSet()
	d := &appsv1.Deployment{
		ObjectMeta: s.ObjectMeta,
		Spec: appsv1.DeploymentSpec{
			Replicas: s.Spec.Replicas,
			Selector: s.Spec.Selector,
			Template: s.Spec.Template,
		},
	}
	for _, m := range mods {
		m(d)
	}
	return d
}

// --- mods ---------------------------------------------------------------------

// apiPod edits the api Deployment's pod spec.
func apiPod(f func(*corev1.PodSpec)) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) { f(&d.Spec.Template.Spec) }
}

// apiMain edits the api Deployment's first container.
func apiMain(f func(*corev1.Container)) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) { f(&d.Spec.Template.Spec.Containers[0]) }
}

func apiReplicas(r *int32) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) { d.Spec.Replicas = r }
}

func apiStrategy(s appsv1.DeploymentStrategy) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) { d.Spec.Strategy = s }
}

// apiPodLabels relabels the api's pod template and object with the given labels.
func apiPodLabels(l map[string]string) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		d.Labels = cloneLabels(l)
		d.Spec.Template.Labels = cloneLabels(l)
		d.Spec.Selector = labelSelector(l)
	}
}

// ctlPod edits the controller StatefulSet's pod spec.
func ctlPod(f func(*corev1.PodSpec)) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) { f(&s.Spec.Template.Spec) }
}

// ctlMain edits the controller StatefulSet's first container.
func ctlMain(f func(*corev1.Container)) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) { f(&s.Spec.Template.Spec.Containers[0]) }
}

func ctlArgs(args ...string) func(*appsv1.StatefulSet) {
	return ctlMain(func(c *corev1.Container) { c.Args = args })
}

func ctlCommand(cmd ...string) func(*appsv1.StatefulSet) {
	return ctlMain(func(c *corev1.Container) { c.Command = cmd })
}

func ctlEnv(env ...corev1.EnvVar) func(*appsv1.StatefulSet) {
	return ctlMain(func(c *corev1.Container) { c.Env = env })
}

func ctlReplicas(r *int32) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) { s.Spec.Replicas = r }
}

func ctlClaims(claims ...corev1.PersistentVolumeClaim) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) { s.Spec.VolumeClaimTemplates = claims }
}

func ctlPodLabels(l map[string]string) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) {
		s.Labels = cloneLabels(l)
		s.Spec.Template.Labels = cloneLabels(l)
		s.Spec.Selector = labelSelector(l)
	}
}

func secretEnv(name string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "laminar"}, Key: "checkpoint-url",
	}}}
}

func sidecar(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "envoyproxy/envoy:v1.31"}
}

// --- policy -------------------------------------------------------------------

// pol is the default policy with mods applied.
func pol(mods ...func(*policy.Policy)) *policy.Policy {
	p := policy.Default()
	for _, m := range mods {
		m(p)
	}
	return p
}

func k8sDefaultsAsUnset(v bool) func(*policy.Policy) {
	return func(p *policy.Policy) { p.TreatKubernetesDefaultsAsUnset = &v }
}

func dur(s string) metav1.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return metav1.Duration{Duration: d}
}

// --- running rules ------------------------------------------------------------

// wl wraps a test object; it must be a Laminar workload.
func wl(t *testing.T, obj runtime.Object) *workload.Workload {
	t.Helper()
	w, ok := workload.FromObject(obj)
	require.True(t, ok, "test object is not a Laminar workload")
	return w
}

// ruleOf looks a rule of type R up by ID.
func ruleOf[R Rule](t *testing.T, id string) R {
	t.Helper()
	r, ok := ByID(id)
	require.True(t, ok, "rule %s is not in the registry", id)
	typed, ok := r.(R)
	require.True(t, ok, "rule %s is a %T", id, r)
	return typed
}

func checkRule(t *testing.T, id string) *Check     { t.Helper(); return ruleOf[*Check](t, id) }
func defaultRule(t *testing.T, id string) *Default { t.Helper(); return ruleOf[*Default](t, id) }
func relatedRule(t *testing.T, id string) *RelatedCheck {
	t.Helper()
	return ruleOf[*RelatedCheck](t, id)
}

// testNow is the time checks are judged at in these tests, far from any run's date.
var testNow = time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)

// runCheck runs a check rule on obj, which the rule must apply to, at testNow
// with no cluster view.
func runCheck(t *testing.T, id string, obj runtime.Object, p *policy.Policy) field.ErrorList {
	t.Helper()
	return runCheckIn(t, id, obj, p, Situation{Ctx: context.Background(), Now: testNow})
}

// runCheckIn runs a check rule on obj in situation s.
func runCheckIn(t *testing.T, id string, obj runtime.Object, p *policy.Policy, s Situation) field.ErrorList {
	t.Helper()
	r := checkRule(t, id)
	w := wl(t, obj)
	require.True(t, r.AppliesTo(w), "rule %s does not apply to a %s %s", id, w.Role, w.Kind)
	return r.Judge(w, p, s)
}

// runDefault runs a default rule on obj, which the rule must apply to, at
// testNow with nothing known of the nodes.
func runDefault(t *testing.T, id string, obj runtime.Object, p *policy.Policy) bool {
	t.Helper()
	return runDefaultIn(t, id, obj, p, Situation{Now: testNow})
}

// runDefaultIn runs a default rule on obj in situation s.
func runDefaultIn(t *testing.T, id string, obj runtime.Object, p *policy.Policy, s Situation) bool {
	t.Helper()
	r := defaultRule(t, id)
	w := wl(t, obj)
	require.True(t, r.AppliesTo(w), "rule %s does not apply to a %s %s", id, w.Role, w.Kind)
	return r.Fill(w, p, s)
}

// assertDefaultIdempotent runs a default rule a second time: it must report no
// change and leave the object as it is.
func assertDefaultIdempotent(t *testing.T, id string, obj runtime.Object, p *policy.Policy) {
	t.Helper()
	before := obj.DeepCopyObject()
	assert.False(t, runDefault(t, id, obj, p), "second run of %s reported a change", id)
	assert.Equal(t, before, obj, "second run of %s changed the object", id)
}

// assertDefaultNoop runs a default rule that must change nothing.
func assertDefaultNoop(t *testing.T, id string, obj runtime.Object, p *policy.Policy) {
	t.Helper()
	before := obj.DeepCopyObject()
	assert.False(t, runDefault(t, id, obj, p), "%s reported a change", id)
	assert.Equal(t, before, obj, "%s changed the object", id)
}

// wantErr is one expected field error. BadValue is ignored for Required errors,
// whose bad value is always "".
type wantErr struct {
	Type     field.ErrorType
	Field    string
	BadValue any
	// Detail lists substrings the detail must contain.
	Detail []string
}

func invalid(path string, bad any, detail ...string) wantErr {
	return wantErr{Type: field.ErrorTypeInvalid, Field: path, BadValue: bad, Detail: detail}
}

func required(path string, detail ...string) wantErr {
	return wantErr{Type: field.ErrorTypeRequired, Field: path, Detail: detail}
}

// assertErrs compares a check's errors with the expected ones, in order, and holds
// every detail to the catalog's form: "<problem>; fix: <how>" for deny rules.
func assertErrs(t *testing.T, id string, got field.ErrorList, want ...wantErr) {
	t.Helper()
	if !assert.Len(t, got, len(want), "errors: %v", got) {
		return
	}
	r, ok := ByID(id)
	require.True(t, ok, "rule %s is not in the registry", id)
	for i, w := range want {
		e := got[i]
		assert.Equal(t, w.Type, e.Type, "error %d type", i)
		assert.Equal(t, w.Field, e.Field, "error %d field", i)
		if w.Type == field.ErrorTypeRequired {
			assert.Equal(t, "", e.BadValue, "error %d bad value", i)
		} else {
			assert.Equal(t, w.BadValue, e.BadValue, "error %d bad value", i)
		}
		for _, s := range w.Detail {
			assert.Contains(t, e.Detail, s, "error %d detail", i)
		}
		assertDetailForm(t, r, e.Detail)
	}
}

// assertDetailForm holds a detail to the catalog's message form.
func assertDetailForm(t *testing.T, rule Rule, detail string) {
	t.Helper()
	r := rule.Describe()
	assert.NotEmpty(t, detail)
	assert.False(t, strings.HasPrefix(detail, "fix:"), "%s: detail %q names no problem before its fix", r.ID, detail)
	if r.Action == ActionDeny {
		assert.Contains(t, detail, "; fix: ", "%s: deny detail %q must read \"<problem>; fix: <how>\"", r.ID, detail)
		assert.Equal(t, 1, strings.Count(detail, "fix:"), "%s: detail %q", r.ID, detail)
	} else {
		assert.LessOrEqual(t, strings.Count(detail, "fix:"), 1, "%s: detail %q", r.ID, detail)
	}
}

// assertNoErrs asserts a check passes.
func assertNoErrs(t *testing.T, got field.ErrorList) {
	t.Helper()
	assert.Empty(t, got, "unexpected errors: %v", got)
}
