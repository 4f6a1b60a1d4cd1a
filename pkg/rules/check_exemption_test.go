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
