package rules

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// annotated sets annotations on a compliant api Deployment.
func annotated(a map[string]string) runtime.Object {
	return apiDeployment(func(d *appsv1.Deployment) { d.Annotations = a })
}

func TestCheckExemptions(t *testing.T) {
	// Every date is relative to the time the checks are judged at.
	stamp := func(d time.Duration) string { return testNow.Add(d).Format(time.RFC3339) }
	const (
		reasonPath = "metadata.annotations[ha.laminar.io/exempt-reason]"
		untilPath  = "metadata.annotations[ha.laminar.io/exempt-until]"
		rulesPath  = "metadata.annotations[ha.laminar.io/exempt]"
	)
	tests := []struct {
		name string
		id   string
		obj  runtime.Object
		want []wantErr
	}{
		{name: "no exemption needs no reason", id: "exemption-reason", obj: annotated(nil)},
		{name: "reason given", id: "exemption-reason", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "INC-42 staging"})},
		{name: "reason missing", id: "exemption-reason", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min"}),
			want: []wantErr{required(reasonPath, "must say why", "fix: add annotation ha.laminar.io/exempt-reason")}},
		{name: "reason blank", id: "exemption-reason", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "   "}),
			want: []wantErr{required(reasonPath)}},
		{name: "empty exemption list asks for nothing", id: "exemption-reason", obj: annotated(map[string]string{exempt.AnnotationRules: " , "})},

		{name: "until parses", id: "exemption-until", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: stamp(200 * 24 * time.Hour)})},
		{name: "until is a bare date", id: "exemption-until", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: testNow.Format(time.DateOnly)}),
			want: []wantErr{invalid(untilPath, testNow.Format(time.DateOnly), "not an RFC 3339 time")}},

		{name: "not yet expired", id: "exemption-expired", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: stamp(time.Second)})},
		{name: "expired at the second", id: "exemption-expired", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: stamp(0)}),
			want: []wantErr{invalid(untilPath, stamp(0), "expired")}},
		{name: "an invalid exemption is not reported as expired", id: "exemption-expired", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationUntil: stamp(-365 * 24 * time.Hour)})},

		{name: "known rules", id: "exemption-unknown-rule", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min, api-zone-spread", exempt.AnnotationReason: "r"})},
		{name: "typo and self-exemption", id: "exemption-unknown-rule", obj: annotated(map[string]string{exempt.AnnotationRules: "replica-min,exemption-reason,api-zone-spread", exempt.AnnotationReason: "r"}),
			want: []wantErr{invalid(rulesPath, "replica-min,exemption-reason", "names no exemptible rule")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, tc.id, runCheck(t, tc.id, tc.obj, policy.Default()), tc.want...)
		})
	}
}

// grants is a fake Authorizer: the permissions it holds, as "verb resource namespace".
type grants struct {
	user string
	held map[string]bool
	err  error
	// asked records each question, to show when none is asked.
	asked []string
}

func (g *grants) Allowed(_ context.Context, verb, resource, namespace string) (bool, error) {
	q := verb + " " + resource + " " + namespace
	g.asked = append(g.asked, q)
	return g.held[q], g.err
}

func (g *grants) User() string { return g.user }

func forbidden(path string, detail ...string) wantErr {
	return wantErr{Type: field.ErrorTypeForbidden, Field: path, BadValue: "", Detail: detail}
}

func TestCheckExemptionPermission(t *testing.T) {
	const rulesPath = "metadata.annotations[ha.laminar.io/exempt]"
	exemption := map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "INC-42 staging"}
	withUntil := maps.Clone(exemption)
	withUntil[exempt.AnnotationUntil] = testNow.Add(time.Hour).Format(time.RFC3339)
	ns := apiDeployment().Namespace
	granted := "grant exemptions " + ns
	selfService := func(p *policy.Policy) { p.Exemptions.SelfService = true }

	tests := []struct {
		name   string
		obj    map[string]string
		old    map[string]string // nil: CREATE
		update bool
		p      *policy.Policy
		a      *grants
		want   []wantErr
		noAsk  bool
	}{
		{name: "a user without the permission cannot add one", obj: exemption, a: &grants{user: "alice"},
			want: []wantErr{forbidden(rulesPath, "grant on exemptions.ha.laminar.io in namespace "+ns, "alice does not have it", "laminar-ha-exemption-granter")}},
		{name: "a user with it can", obj: exemption, a: &grants{user: "bob", held: map[string]bool{granted: true}}},
		{name: "holding it in another namespace is not enough", obj: exemption, a: &grants{user: "carol", held: map[string]bool{"grant exemptions elsewhere": true}},
			want: []wantErr{forbidden(rulesPath, "carol does not have it")}},
		{name: "changing the expiry is granting again", obj: withUntil, old: exemption, update: true, a: &grants{user: "alice"},
			want: []wantErr{forbidden(rulesPath)}},
		{name: "an unchanged exemption asks nothing", obj: exemption, old: exemption, update: true, a: &grants{user: "alice"}, noAsk: true},
		{name: "removing one asks nothing", obj: nil, old: exemption, update: true, a: &grants{user: "alice"}, noAsk: true},
		{name: "a failed check refuses", obj: exemption, a: &grants{user: "alice", held: map[string]bool{granted: true}, err: errors.New("connection refused")},
			want: []wantErr{forbidden(rulesPath, "could not be checked (connection refused)")}},
		{name: "self-service asks nothing", obj: exemption, p: pol(selfService), a: &grants{user: "alice"}, noAsk: true},
		{name: "no requester known (offline) asks nothing", obj: exemption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p == nil {
				p = policy.Default()
			}
			s := Situation{Ctx: context.Background(), Now: testNow}
			if tc.a != nil {
				s.Authorizer = tc.a
			}
			if tc.update {
				s.Old = wl(t, annotated(tc.old))
			}
			assertErrs(t, "exemption-permission", runCheckIn(t, "exemption-permission", annotated(tc.obj), p, s), tc.want...)
			if tc.noAsk && tc.a != nil {
				assert.Empty(t, tc.a.asked, "the API server was asked")
			}
		})
	}
}

func TestCheckExemptionMaxDuration(t *testing.T) {
	const untilPath = "metadata.annotations[ha.laminar.io/exempt-until]"
	stamp := func(d time.Duration) string { return testNow.Add(d).Format(time.RFC3339) }
	until := func(v string) map[string]string {
		a := map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "INC-42"}
		if v != "" {
			a[exempt.AnnotationUntil] = v
		}
		return a
	}
	const month = 30 * 24 * time.Hour
	limited := pol(func(p *policy.Policy) { p.Exemptions.MaxDuration = metav1.Duration{Duration: month} })
	latest := "no later than " + stamp(month)
	tests := []struct {
		name string
		obj  map[string]string
		old  map[string]string
		p    *policy.Policy
		want []wantErr
	}{
		{name: "no limit, no expiry", obj: until(""), p: policy.Default()},
		{name: "within the limit", obj: until(stamp(month)), p: limited},
		{name: "a second past it", obj: until(stamp(month + time.Second)), p: limited,
			want: []wantErr{invalid(untilPath, stamp(month+time.Second), "limit of 720h0m0s", latest)}},
		{name: "no expiry under a limit", obj: until(""), p: limited,
			want: []wantErr{required(untilPath, "must say when it ends", latest)}},
		{name: "unreadable expiry is exemption-until's to report", obj: until("next year"), p: limited},
		{name: "one granted long ago is not judged again", obj: until(stamp(10 * month)), old: until(stamp(10 * month)), p: limited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Situation{Ctx: context.Background(), Now: testNow}
			if tc.old != nil {
				s.Old = wl(t, annotated(tc.old))
			}
			assertErrs(t, "exemption-max-duration", runCheckIn(t, "exemption-max-duration", annotated(tc.obj), tc.p, s), tc.want...)
		})
	}
}
