package rules

import (
	"testing"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckAPIReadinessProbe(t *testing.T) {
	testRequireProbe(t, "api-readiness-probe", "readinessProbe", readinessSlot,
		func(p *policy.Policy) *policy.Probe { return &p.API.Probes.Readiness },
		"needs a readiness probe; fix: add httpGet /ready on port 8000")
}
