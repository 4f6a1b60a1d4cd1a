package rules

import (
	"testing"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckAPILivenessProbe(t *testing.T) {
	testRequireProbe(t, "api-liveness-probe", "livenessProbe", livenessSlot,
		func(p *policy.Policy) *policy.Probe { return &p.API.Probes.Liveness },
		"needs a liveness probe; fix: add httpGet /health on port 8000")
}
