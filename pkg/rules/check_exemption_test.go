package rules

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// annotated sets annotations on a compliant api Deployment.
func annotated(a map[string]string) runtime.Object {
	return apiDeployment(func(d *appsv1.Deployment) { d.Annotations = a })
}

// frozenNow pins the exemption clock for one test.
func frozenNow(t *testing.T, at string) {
	t.Helper()
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	old := exempt.Now
	exempt.Now = func() time.Time { return now }
	t.Cleanup(func() { exempt.Now = old })
}

func TestCheckExemptions(t *testing.T) {
	frozenNow(t, "2026-06-01T00:00:00Z")
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

		{name: "until parses", id: "exemption-until", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: "2026-12-31T00:00:00Z"})},
		{name: "until is a bare date", id: "exemption-until", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: "2026-12-31"}),
			want: []wantErr{invalid(untilPath, "2026-12-31", "not an RFC 3339 time")}},

		{name: "not yet expired", id: "exemption-expired", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: "2026-06-01T00:00:01Z"})},
		{name: "expired at the second", id: "exemption-expired", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: "2026-06-01T00:00:00Z"}),
			want: []wantErr{invalid(untilPath, "2026-06-01T00:00:00Z", "expired")}},
		{name: "an invalid exemption is not reported as expired", id: "exemption-expired", obj: annotated(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationUntil: "2020-01-01T00:00:00Z"})},

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
