package admit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// fakeNamespaces stands in for the cluster's namespace cache.
type fakeNamespaces map[string]map[string]string

func (f fakeNamespaces) Labels(_ context.Context, name string) (map[string]string, bool) {
	l, ok := f[name]
	return l, ok
}

var namespaces = fakeNamespaces{
	"strict":  {},
	"relaxed": {policy.LabelMode: policy.ModeWarn},
	"ignored": {policy.LabelMode: policy.ModeOff, policy.LabelMutate: policy.MutateOff},
	"typo":    {policy.LabelMode: "audit"},
}

// request builds an admission request for a fixture, as the API server sends it.
func request(t *testing.T, op admissionv1.Operation, namespace, object, old string) admission.Request {
	t.Helper()
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "u-1", Operation: op, Namespace: namespace, Name: "laminar-api",
		Kind:   metav1GVK("apps", "v1", "Deployment"),
		Object: runtime.RawExtension{Raw: []byte(object)},
	}}
	if old != "" {
		req.OldObject = runtime.RawExtension{Raw: []byte(old)}
	}
	return req
}

func TestNamespaceModes(t *testing.T) {
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	p := admit.Static(policy.Default())
	v := admit.NewValidator(admit.Config{Policy: p, Namespaces: namespaces})
	m := admit.NewMutator(admit.Config{Policy: p, Namespaces: namespaces})
	ctx := context.Background()

	t.Run("deny is the default", func(t *testing.T) {
		r := v.Handle(ctx, request(t, admissionv1.Create, "strict", bad, ""))
		assert.False(t, r.Allowed)
		assert.Equal(t, "deny", r.AuditAnnotations[admit.AuditMode])
		assert.Contains(t, r.AuditAnnotations[admit.AuditDenied], "replicas-min")
	})
	t.Run("unknown namespace falls back to the policy default", func(t *testing.T) {
		r := v.Handle(ctx, request(t, admissionv1.Create, "not-in-cache", bad, ""))
		assert.False(t, r.Allowed)
	})
	t.Run("warn mode allows with a warning per violation and audits them", func(t *testing.T) {
		r := v.Handle(ctx, request(t, admissionv1.Create, "relaxed", bad, ""))
		assert.True(t, r.Allowed)
		assert.Len(t, r.Warnings, 6)
		for _, w := range r.Warnings {
			assert.True(t, strings.HasPrefix(w, "would deny: "), w)
			assert.LessOrEqual(t, len([]rune(w)), 120)
		}
		assert.Equal(t, "replicas-min,api-strategy-rolling,api-readiness-probe,api-liveness-probe,api-anti-affinity,api-zone-spread",
			r.AuditAnnotations[admit.AuditAudited])
		assert.Empty(t, r.AuditAnnotations[admit.AuditDenied])
	})
	t.Run("off skips validation and mutation", func(t *testing.T) {
		r := v.Handle(ctx, request(t, admissionv1.Create, "ignored", bad, ""))
		assert.True(t, r.Allowed)
		assert.Empty(t, r.Warnings)
		r = m.Handle(ctx, request(t, admissionv1.Create, "ignored", bad, ""))
		assert.True(t, r.Allowed)
		assert.Empty(t, r.Patch)
	})
	t.Run("a bad label value keeps the safe default and says so", func(t *testing.T) {
		r := v.Handle(ctx, request(t, admissionv1.Create, "typo", bad, ""))
		assert.False(t, r.Allowed)
		require.NotEmpty(t, r.Warnings)
		assert.Contains(t, r.Warnings[len(r.Warnings)-1], `ha.laminar.io/enforce="audit"`)
	})
	t.Run("policy default warn", func(t *testing.T) {
		pol := policy.Default()
		pol.Enforcement.Mode = policy.ModeWarn
		r := (admit.NewValidator(admit.Config{Policy: admit.Static(pol), Namespaces: namespaces})).Handle(ctx, request(t, admissionv1.Create, "strict", bad, ""))
		assert.True(t, r.Allowed)
	})
}

func TestRatchetingOnUpdate(t *testing.T) {
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	v := admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default())})
	ctx := context.Background()

	// An image bump on a legacy object keeps its old violations: allowed, warned.
	bumped := strings.Replace(bad, "laminar/api:1.4.0", "laminar/api:1.4.1", 1)
	require.NotEqual(t, bad, bumped)
	r := v.Handle(ctx, request(t, admissionv1.Update, "strict", bumped, bad))
	assert.True(t, r.Allowed, "%v", r.Result)
	assert.Len(t, r.Warnings, 6)
	assert.Contains(t, r.AuditAnnotations[admit.AuditRatcheted], "replicas-min")

	// Lowering replicas further is a new violation of the same rule: denied.
	worse := strings.Replace(bad, `"replicas":1`, `"replicas":0`, 1)
	require.NotEqual(t, bad, worse)
	r = v.Handle(ctx, request(t, admissionv1.Update, "strict", worse, bad))
	assert.False(t, r.Allowed)
	assert.Equal(t, "replicas-min", r.AuditAnnotations[admit.AuditDenied])

	// The same update as a CREATE has no past to ratchet against.
	r = v.Handle(ctx, request(t, admissionv1.Create, "strict", bumped, ""))
	assert.False(t, r.Allowed)

	// An object that becomes Laminar on this update has no Laminar past: its old
	// self, the same spec with other pod labels, blesses nothing.
	notYet := strings.ReplaceAll(bad, `"app":"laminar-api"`, `"app":"web"`)
	require.NotEqual(t, bad, notYet)
	r = v.Handle(ctx, request(t, admissionv1.Update, "strict", bumped, notYet))
	assert.False(t, r.Allowed, "becoming Laminar is judged as a CREATE")
	assert.Empty(t, r.AuditAnnotations[admit.AuditRatcheted])

	// Switched off in the policy, old violations deny again.
	off := policy.Default()
	off.Enforcement.Ratchet = false
	r = (admit.NewValidator(admit.Config{Policy: admit.Static(off)})).Handle(ctx, request(t, admissionv1.Update, "strict", bumped, bad))
	assert.False(t, r.Allowed)
}

func TestExemptionsAndMetrics(t *testing.T) {
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	v := admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default()), Access: reviewer{allow: map[string]bool{"": true}}})
	ctx := context.Background()
	annotate := func(a string) string {
		return strings.Replace(bad, `"name":"laminar-api"`, `"name":"laminar-api","annotations":{`+a+`}`, 1)
	}
	before := testutil.ToFloat64(metrics.Exemptions.WithLabelValues("replicas-min"))
	deniedBefore := testutil.ToFloat64(metrics.Decisions.WithLabelValues("validate", "Deployment", "api", metrics.OutcomeDenied))

	// Exempting every violated rule, with a reason, admits the object.
	all := `"ha.laminar.io/exempt":"replicas-min,api-strategy-rolling,api-readiness-probe,api-liveness-probe,api-anti-affinity,api-zone-spread","ha.laminar.io/exempt-reason":"load-test namespace, INC-12"`
	r := v.Handle(ctx, request(t, admissionv1.Create, "strict", annotate(all), ""))
	assert.True(t, r.Allowed, "%v", r.Result)
	assert.Contains(t, r.AuditAnnotations[admit.AuditExempted], "replicas-min")
	assert.Equal(t, before+1, testutil.ToFloat64(metrics.Exemptions.WithLabelValues("replicas-min")))

	// Without a reason the exemption is refused, saying so.
	r = v.Handle(ctx, request(t, admissionv1.Create, "strict", annotate(`"ha.laminar.io/exempt":"replicas-min"`), ""))
	assert.False(t, r.Allowed)
	assert.Contains(t, r.Result.Message, "[exemption-reason]")
	assert.Contains(t, r.Result.Message, "[replicas-min]")
	assert.Equal(t, deniedBefore+1, testutil.ToFloat64(metrics.Decisions.WithLabelValues("validate", "Deployment", "api", metrics.OutcomeDenied)))
}

// TestMetricLabelsStayBounded sends kinds the webhook does not judge: however
// many a caller invents, they add no series beyond "other".
func TestMetricLabelsStayBounded(t *testing.T) {
	v := admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default())})
	before := testutil.ToFloat64(metrics.Decisions.WithLabelValues("validate", "other", "none", metrics.OutcomeSkipped))
	for i := range 50 {
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "u", Operation: admissionv1.Create, Namespace: "n",
			Kind: metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: fmt.Sprintf("Invented%03d", i)},
		}}
		assert.True(t, v.Handle(context.Background(), req).Allowed)
	}
	assert.Equal(t, before+50, testutil.ToFloat64(metrics.Decisions.WithLabelValues("validate", "other", "none", metrics.OutcomeSkipped)))
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(metrics.Decisions))
	families, err := reg.Gather()
	require.NoError(t, err)
	require.NotEmpty(t, families)
	for _, m := range families[0].GetMetric() {
		for _, l := range m.GetLabel() {
			assert.False(t, strings.HasPrefix(l.GetValue(), "Invented"), "a kind named by the caller became label value %q", l.GetValue())
		}
	}
}

// reviewer is a fake API server authorizer: the users it says yes to. It
// records every question as "user verb group/resource namespace".
type reviewer struct {
	allow map[string]bool
	err   error
	asked *[]string
}

func (r reviewer) Review(_ context.Context, u authenticationv1.UserInfo, verb, group, resource, namespace string) (bool, error) {
	if r.asked != nil {
		*r.asked = append(*r.asked, fmt.Sprintf("%s %s %s/%s %s", u.Username, verb, group, resource, namespace))
	}
	return r.allow[u.Username], r.err
}

// TestGrantingAnExemptionNeedsThePermission: an exemption added by a user the
// API server does not allow `grant` on exemptions.ha.laminar.io in the
// namespace MUST be refused, naming the permission; the same exemption from a
// user who holds it, or under a self-service policy, is honoured; and a webhook
// that cannot ask refuses rather than lets it through.
func TestGrantingAnExemptionNeedsThePermission(t *testing.T) {
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	exempted := strings.Replace(bad, `"name":"laminar-api"`, `"name":"laminar-api","annotations":{`+
		`"ha.laminar.io/exempt":"replicas-min,api-strategy-rolling,api-readiness-probe,api-liveness-probe,api-anti-affinity,api-zone-spread",`+
		`"ha.laminar.io/exempt-reason":"load-test namespace, INC-12"}`, 1)
	as := func(user string) admission.Request {
		req := request(t, admissionv1.Create, "strict", exempted, "")
		req.UserInfo = authenticationv1.UserInfo{Username: user, Groups: []string{"system:authenticated"}}
		return req
	}
	ctx := context.Background()
	var asked []string
	access := reviewer{allow: map[string]bool{"platform": true}, asked: &asked}
	v := admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default()), Access: access})

	r := v.Handle(ctx, as("tenant"))
	assert.False(t, r.Allowed)
	assert.Contains(t, r.Result.Message, "[exemption-permission]")
	assert.Contains(t, r.Result.Message, "grant on exemptions.ha.laminar.io in namespace strict, and tenant does not have it")
	assert.Equal(t, []string{"tenant grant ha.laminar.io/exemptions strict"}, asked)

	r = v.Handle(ctx, as("platform"))
	assert.True(t, r.Allowed, "%v", r.Result)
	assert.Contains(t, r.AuditAnnotations[admit.AuditExempted], "replicas-min")

	// An edit that leaves the exemption as it was asks nothing.
	asked = nil
	update := request(t, admissionv1.Update, "strict", exempted, exempted)
	update.UserInfo.Username = "tenant"
	r = v.Handle(ctx, update)
	assert.True(t, r.Allowed, "%v", r.Result)
	assert.Empty(t, asked)

	selfService := policy.Default()
	selfService.Exemptions.SelfService = true
	r = admit.NewValidator(admit.Config{Policy: admit.Static(selfService), Access: access}).Handle(ctx, as("tenant"))
	assert.True(t, r.Allowed, "%v", r.Result)

	r = admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default())}).Handle(ctx, as("platform"))
	assert.False(t, r.Allowed)
	assert.Contains(t, r.Result.Message, "could not be checked (the webhook has no cluster access")

	r = admit.NewValidator(admit.Config{Policy: admit.Static(policy.Default()),
		Access: reviewer{allow: map[string]bool{"platform": true}, err: errors.New("etcdserver: request timed out")}}).Handle(ctx, as("platform"))
	assert.False(t, r.Allowed)
	assert.Contains(t, r.Result.Message, "could not be checked (etcdserver: request timed out)")
}
