package rules

import (
	"testing"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIStartupProbe(t *testing.T) {
	testProbeDefaulter(t, "set-api-startup-probe", startupSlot,
		func(p *policy.Policy) *policy.Probe { return &p.API.Probes.Startup },
		guideProbe("/health", 10, 10, 30))
}
