package validate_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// load reads a fixture as a Deployment that tests may change.
func load(t *testing.T, path string) *appsv1.Deployment {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	return obj.(*appsv1.Deployment)
}

func view(t *testing.T, d *appsv1.Deployment) *workload.Workload {
	t.Helper()
	w, ok := workload.FromObject(d)
	require.True(t, ok)
	return w
}

// compliant is the golden output of mutation: no deny rule fires on it.
func compliant(t *testing.T) *appsv1.Deployment {
	return load(t, "../../test/testdata/mutate/api-minimal.golden.yaml")
}

func withReplicas(d *appsv1.Deployment, n int32) *appsv1.Deployment {
	d = d.DeepCopy()
	d.Spec.Replicas = &n
	return d
}

// TestJudgeIsTheSameWhateverTheDate runs the whole table at two times far apart:
// every exemption date in it is relative to the time judged at, so a verdict can
// only change with the machine's date if something reads a clock of its own.
func TestJudgeIsTheSameWhateverTheDate(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2019, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(now.Format(time.DateOnly), func(t *testing.T) { testJudge(t, now) })
	}
}

func testJudge(t *testing.T, now time.Time) {
	stamp := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	ratchetOff := policy.Default()
	ratchetOff.Enforcement.Ratchet = false
	withRule := func(id string, action policy.RuleAction) *policy.Policy {
		p := policy.Default()
		p.Rules[id] = action
		return p
	}
	exemptFor := func(d *appsv1.Deployment, rules, reason, until string) *appsv1.Deployment {
		d = d.DeepCopy()
		d.Annotations = map[string]string{"ha.laminar.io/exempt": rules}
		if reason != "" {
			d.Annotations["ha.laminar.io/exempt-reason"] = reason
		}
		if until != "" {
			d.Annotations["ha.laminar.io/exempt-until"] = until
		}
		return d
	}
	createdAt := func(d *appsv1.Deployment, at time.Time) *appsv1.Deployment {
		d = d.DeepCopy()
		d.CreationTimestamp = metav1.NewTime(at)
		return d
	}
	tests := []struct {
		name     string
		obj, old *appsv1.Deployment
		mode     string
		policy   *policy.Policy
		// enforcedSince is when enforcement came back on in the namespace.
		enforcedSince time.Time
		want          map[validate.Outcome][]string
		warnings      int
	}{
		{name: "an old object created while enforcement was off ratchets nothing",
			obj: withReplicas(compliant(t), 1), old: createdAt(withReplicas(compliant(t), 1), now.Add(-48*time.Hour)),
			enforcedSince: now.Add(-time.Hour), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "one created in the second enforcement came back on ratchets nothing",
			obj: withReplicas(compliant(t), 1), old: createdAt(withReplicas(compliant(t), 1), now.Add(-time.Hour)),
			enforcedSince: now.Add(-time.Hour), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "one created after enforcement came back on ratchets as usual",
			obj: withReplicas(compliant(t), 1), old: createdAt(withReplicas(compliant(t), 1), now.Add(-time.Hour+time.Second)),
			enforcedSince: now.Add(-time.Hour), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeRatchet: {"replicas-min"}}, warnings: 1},
		{name: "compliant", obj: compliant(t), mode: policy.ModeDeny, want: map[validate.Outcome][]string{}},
		{name: "create below the floor is denied", obj: withReplicas(compliant(t), 1), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "warn mode turns the denial into an audited warning", obj: withReplicas(compliant(t), 1), mode: policy.ModeWarn,
			want: map[validate.Outcome][]string{validate.OutcomeAudit: {"replicas-min"}}, warnings: 1},
		{name: "update keeping an old violation is ratcheted", obj: withReplicas(compliant(t), 1), old: withReplicas(compliant(t), 1), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeRatchet: {"replicas-min"}}, warnings: 1},
		{name: "update making it worse is denied", obj: withReplicas(compliant(t), 0), old: withReplicas(compliant(t), 1), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "update adding a new violation is denied", obj: withReplicas(compliant(t), 1), old: compliant(t), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "legacy object: old violations ratchet, the new one denies", obj: func() *appsv1.Deployment {
			d := load(t, "../../test/testdata/admission/api-bad.yaml")
			d.Spec.Template.Spec.Containers[0].Image = "laminar/api:1.4.1"
			d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(5))
			d.Spec.Template.Spec.Containers[0].Lifecycle = compliant(t).Spec.Template.Spec.Containers[0].Lifecycle
			return d
		}(), old: load(t, "../../test/testdata/admission/api-bad.yaml"), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{
				validate.OutcomeRatchet: {"replicas-min", "api-strategy-rolling", "api-readiness-probe", "api-liveness-probe", "api-anti-affinity", "api-zone-spread"},
				validate.OutcomeDeny:    {"api-prestop-within-grace"},
			}, warnings: 6},
		{name: "ratcheting can be switched off", obj: withReplicas(compliant(t), 1), old: withReplicas(compliant(t), 1), mode: policy.ModeDeny, policy: ratchetOff,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "exemption with a reason excuses the rule", obj: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "batch env, INC-9", ""), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeExempt: {"replicas-min"}}},
		{name: "exemption without a reason is denied and not honoured", obj: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "", ""), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min", "exemption-reason"}}},
		{name: "expired exemption is ignored with a warning", obj: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "r", stamp(-24*time.Hour)), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}, validate.OutcomeWarn: {"exemption-expired"}}, warnings: 1},
		{name: "an exemption removed on update: its violation is denied, not ratcheted",
			obj: withReplicas(compliant(t), 1), old: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "r", ""), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "an exemption expired since the last change: its violation is denied, not ratcheted",
			obj: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "r", stamp(-time.Hour)),
			old: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "r", stamp(-time.Hour)), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}, validate.OutcomeWarn: {"exemption-expired"}}, warnings: 1},
		{name: "other old violations of an exempted object still ratchet",
			obj: exemptFor(withReplicas(compliant(t), 1), "api-zone-spread", "r", ""),
			old: exemptFor(withReplicas(compliant(t), 1), "api-zone-spread", "r", ""), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeRatchet: {"replicas-min"}}, warnings: 1},
		{name: "a rule the policy puts on audit is warned as would-deny in a deny namespace",
			obj: withReplicas(compliant(t), 1), mode: policy.ModeDeny, policy: withRule("replicas-min", policy.RuleAudit),
			want: map[validate.Outcome][]string{validate.OutcomeAudit: {"replicas-min"}}, warnings: 1},
		{name: "a rule the policy puts on warn only warns",
			obj: withReplicas(compliant(t), 1), mode: policy.ModeDeny, policy: withRule("replicas-min", policy.RuleWarn),
			want: map[validate.Outcome][]string{validate.OutcomeWarn: {"replicas-min"}}, warnings: 1},
		{name: "a rule the policy turns off is not run",
			obj: withReplicas(compliant(t), 1), mode: policy.ModeDeny, policy: withRule("replicas-min", policy.RuleOff),
			want: map[validate.Outcome][]string{}},
		{name: "turning one rule off leaves the others denying",
			obj: withReplicas(compliant(t), 1), mode: policy.ModeDeny, policy: withRule("replicas-recommended", policy.RuleOff),
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-min"}}},
		{name: "a warning the policy makes a denial denies",
			obj: withReplicas(compliant(t), 2), mode: policy.ModeDeny, policy: withRule("replicas-recommended", policy.RuleDeny),
			want: map[validate.Outcome][]string{validate.OutcomeDeny: {"replicas-recommended"}}},
		{name: "such a denial is audited in a warn namespace",
			obj: withReplicas(compliant(t), 2), mode: policy.ModeWarn, policy: withRule("replicas-recommended", policy.RuleDeny),
			want: map[validate.Outcome][]string{validate.OutcomeAudit: {"replicas-recommended"}}, warnings: 1},
		{name: "an exemption still excuses a rule on audit",
			obj: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "r", ""), mode: policy.ModeDeny, policy: withRule("replicas-min", policy.RuleAudit),
			want: map[validate.Outcome][]string{validate.OutcomeExempt: {"replicas-min"}}},
		{name: "unexpired exemption holds", obj: exemptFor(withReplicas(compliant(t), 1), "replicas-min", "r", stamp(time.Second)), mode: policy.ModeDeny,
			want: map[validate.Outcome][]string{validate.OutcomeExempt: {"replicas-min"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = policy.Default()
			}
			c := validate.Context{Mode: tc.mode}
			c.Now, c.EnforcedSince = now, tc.enforcedSince
			if tc.old != nil {
				c.Old = view(t, tc.old)
			}
			d := validate.Judge(view(t, tc.obj), p, c)
			for _, out := range []validate.Outcome{validate.OutcomeDeny, validate.OutcomeWarn, validate.OutcomeAudit, validate.OutcomeRatchet, validate.OutcomeExempt} {
				assert.Equal(t, tc.want[out], d.RuleIDs(out), "outcome %s", out)
			}
			assert.Len(t, d.Warnings(), tc.warnings)
			for _, w := range d.Warnings() {
				assert.LessOrEqual(t, len([]rune(w)), validate.MaxWarningLength)
			}
			if len(tc.want[validate.OutcomeDeny]) > 0 {
				assert.NotEmpty(t, d.Denials())
			} else {
				assert.Empty(t, d.Denials())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// budgets is a cluster view that knows only disruption budgets.
type budgets []policyv1.PodDisruptionBudget

func (budgets) Workload(context.Context, string, string, string) (*workload.Workload, bool) {
	return nil, false
}
func (budgets) WorkloadsSelected(context.Context, string, labels.Selector) []*workload.Workload {
	return nil
}
func (budgets) AutoscalersTargeting(context.Context, string, string, string) []autoscalingv2.HorizontalPodAutoscaler {
	return nil
}
func (budgets) ServicesSelecting(context.Context, string, map[string]string) []corev1.Service {
	return nil
}
func (budgets) Service(context.Context, string, string) (*corev1.Service, bool) { return nil, false }
func (budgets) IngressClass(context.Context, string) (*networkingv1.IngressClass, bool) {
	return nil, false
}
func (b budgets) BudgetsSelecting(_ context.Context, ns string, podLabels map[string]string) []policyv1.PodDisruptionBudget {
	var out []policyv1.PodDisruptionBudget
	for _, pdb := range b {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && pdb.Namespace == ns && sel.Matches(labels.Set(podLabels)) {
			out = append(out, pdb)
		}
	}
	return out
}

// TestABudgetIsJudgedWhicheverSideMoves: a replica change (or a workload created
// after its budget) that leaves a budget blocking every drain MUST be denied with
// the budget check's own message, as an edit of the budget is; one that was
// already so is ratcheted like any old violation.
func TestABudgetIsJudgedWhicheverSideMoves(t *testing.T) {
	two := intstr.FromInt32(2)
	budgetView := budgets{{
		ObjectMeta: metav1.ObjectMeta{Name: "api-budget", Namespace: "laminar"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-api"}}},
	}}
	at := func(d *appsv1.Deployment) *appsv1.Deployment { d.Namespace = "laminar"; return d }
	judge := func(obj, old *appsv1.Deployment) validate.Decision {
		c := validate.Context{Mode: policy.ModeDeny}
		c.Ctx, c.Now, c.View = context.Background(), time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), budgetView
		if old != nil {
			c.Old = view(t, old)
		}
		return validate.Judge(view(t, obj), policy.Default(), c)
	}
	three, twoReplicas := at(withReplicas(compliant(t), 3)), at(withReplicas(compliant(t), 2))

	assert.Empty(t, judge(three, nil).RuleIDs(validate.OutcomeDeny), "3 replicas under minAvailable 2 drain one at a time")

	d := judge(twoReplicas, three)
	assert.Equal(t, []string{"pdb-allows-drain"}, d.RuleIDs(validate.OutcomeDeny), "scaling 3 → 2 under minAvailable 2 blocks drains")
	require.Len(t, d.Denials(), 1)
	e := d.Denials()[0]
	assert.Equal(t, "spec.replicas", e.Field)
	assert.Equal(t, int32(2), e.BadValue)
	assert.Contains(t, e.Detail, "[pdb-allows-drain] PodDisruptionBudget api-budget spec.minAvailable: blocks every eviction of Deployment")
	assert.Contains(t, e.Detail, "fix: set minAvailable to 1 or less")

	assert.Equal(t, []string{"pdb-allows-drain"}, judge(twoReplicas, nil).RuleIDs(validate.OutcomeDeny), "created after its budget")
	assert.Equal(t, []string{"pdb-allows-drain"}, judge(twoReplicas, twoReplicas).RuleIDs(validate.OutcomeRatchet), "already so: ratcheted")
}

// services is a cluster view that knows only Services.
type services []corev1.Service

func (services) Workload(context.Context, string, string, string) (*workload.Workload, bool) {
	return nil, false
}
func (services) WorkloadsSelected(context.Context, string, labels.Selector) []*workload.Workload {
	return nil
}
func (services) AutoscalersTargeting(context.Context, string, string, string) []autoscalingv2.HorizontalPodAutoscaler {
	return nil
}
func (services) BudgetsSelecting(context.Context, string, map[string]string) []policyv1.PodDisruptionBudget {
	return nil
}
func (s services) ServicesSelecting(_ context.Context, ns string, podLabels map[string]string) []corev1.Service {
	var out []corev1.Service
	for _, svc := range s {
		if sel, ok := rules.ServicePodSelector(&svc); ok && svc.Namespace == ns && sel.Matches(labels.Set(podLabels)) {
			out = append(out, svc)
		}
	}
	return out
}
func (services) Service(context.Context, string, string) (*corev1.Service, bool) { return nil, false }
func (services) IngressClass(context.Context, string) (*networkingv1.IngressClass, bool) {
	return nil, false
}

// TestAServiceIsJudgedWhicheverComesFirst: an api created after a Service that
// pins its clients MUST be denied with the Service check's own message, as the
// Service's write would have been had the api been there; an update of an api
// already so is ratcheted like any old violation.
func TestAServiceIsJudgedWhicheverComesFirst(t *testing.T) {
	sticky := services{
		{ObjectMeta: metav1.ObjectMeta{Name: "sticky", Namespace: "laminar"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "laminar-api"}, SessionAffinity: corev1.ServiceAffinityClientIP}},
		{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "other"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "laminar-api"}, SessionAffinity: corev1.ServiceAffinityClientIP}},
	}
	at := func(d *appsv1.Deployment) *appsv1.Deployment { d.Namespace = "laminar"; return d }
	judge := func(obj, old *appsv1.Deployment, v rules.View) validate.Decision {
		c := validate.Context{Mode: policy.ModeDeny}
		c.Ctx, c.Now, c.View = context.Background(), time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), v
		if old != nil {
			c.Old = view(t, old)
		}
		return validate.Judge(view(t, obj), policy.Default(), c)
	}
	api := at(compliant(t))

	d := judge(api, nil, sticky)
	assert.Equal(t, []string{"api-service-session-affinity"}, d.RuleIDs(validate.OutcomeDeny))
	require.Len(t, d.Denials(), 1, "the Service in another namespace does not count")
	e := d.Denials()[0]
	assert.Equal(t, "spec.template.metadata.labels", e.Field)
	assert.Equal(t, "ClientIP", e.BadValue)
	assert.Contains(t, e.Detail, "[api-service-session-affinity] Service sticky spec.sessionAffinity: pins clients to one pod of Deployment")

	assert.Equal(t, []string{"api-service-session-affinity"}, judge(api, api, sticky).RuleIDs(validate.OutcomeRatchet), "already so: ratcheted")
	assert.Empty(t, judge(api, nil, services{}).RuleIDs(validate.OutcomeDeny))
}
