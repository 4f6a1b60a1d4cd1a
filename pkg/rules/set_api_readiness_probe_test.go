package rules

import (
	"testing"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIReadinessProbe(t *testing.T) {
	testProbeDefaulter(t, "set-api-readiness-probe", readinessSlot,
		func(p *policy.Policy) *policy.Probe { return &p.API.Probes.Readiness },
		guideProbe("/ready", 5, 5, 3))
}
