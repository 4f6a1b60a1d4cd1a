package admit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// captured runs fn with a logger at the given verbosity and returns the lines.
func captured(verbosity int, fn func(ctx context.Context)) []string {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{Verbosity: verbosity})
	fn(logf.IntoContext(context.Background(), log))
	return lines
}

func TestDecisionLogs(t *testing.T) {
	p := admit.Static(policy.Default())
	m := admit.NewMutator(admit.Config{Policy: p})
	v := admit.NewValidator(admit.Config{Policy: p})
	bad := fixtureJSON(t, "admission/api-bad.yaml")
	good := fixtureJSON(t, "mutate/api-minimal.golden.yaml")
	unrelated := fixtureJSON(t, "mutate/not-laminar.yaml")

	t.Run("a denial is one info line with the rule IDs", func(t *testing.T) {
		lines := captured(0, func(ctx context.Context) { v.Handle(ctx, request(t, admissionv1.Create, "ns", bad, "")) })
		require.Len(t, lines, 1)
		assert.Contains(t, lines[0], `"msg"="denied"`)
		assert.Contains(t, lines[0], `"rules"=["replicas-min" "api-strategy-rolling"`)
	})
	t.Run("a mutation is one info line with the rule IDs", func(t *testing.T) {
		lines := captured(0, func(ctx context.Context) { m.Handle(ctx, request(t, admissionv1.Create, "ns", bad, "")) })
		require.Len(t, lines, 1)
		assert.Contains(t, lines[0], `"msg"="HA defaults applied"`)
		assert.Contains(t, lines[0], `"set-api-anti-affinity"`)
	})
	t.Run("allowed unchanged and unjudged requests are quiet at info", func(t *testing.T) {
		lines := captured(0, func(ctx context.Context) {
			v.Handle(ctx, request(t, admissionv1.Create, "ns", good, ""))
			m.Handle(ctx, request(t, admissionv1.Create, "ns", good, ""))
			v.Handle(ctx, request(t, admissionv1.Create, "ns", unrelated, ""))
		})
		assert.Empty(t, lines)
	})
	t.Run("debug shows them, and the patch, never the object", func(t *testing.T) {
		lines := captured(1, func(ctx context.Context) {
			v.Handle(ctx, request(t, admissionv1.Create, "ns", good, ""))
			m.Handle(ctx, request(t, admissionv1.Create, "ns", bad, ""))
			v.Handle(ctx, request(t, admissionv1.Create, "ns", unrelated, ""))
		})
		all := strings.Join(lines, "\n")
		assert.Contains(t, all, `"msg"="allowed"`)
		assert.Contains(t, all, `"msg"="patch"`)
		assert.Contains(t, all, `"msg"="not judged"`)
		assert.NotContains(t, all, "laminar/api:1.4.0", "the object's content is never logged")
	})
}
