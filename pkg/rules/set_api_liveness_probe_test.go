package rules

import (
	"testing"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPILivenessProbe(t *testing.T) {
	testProbeDefaulter(t, "set-api-liveness-probe", livenessSlot,
		func(p *policy.Policy) *policy.Probe { return &p.API.Probes.Liveness },
		guideProbe("/health", 30, 10, 3))
}
