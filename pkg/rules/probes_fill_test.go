package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// probeSlot picks one probe of a container.
type probeSlot func(*corev1.Container) **corev1.Probe

var (
	livenessSlot  probeSlot = func(c *corev1.Container) **corev1.Probe { return &c.LivenessProbe }
	readinessSlot probeSlot = func(c *corev1.Container) **corev1.Probe { return &c.ReadinessProbe }
	startupSlot   probeSlot = func(c *corev1.Container) **corev1.Probe { return &c.StartupProbe }
)

// testProbeDefaulter runs the cases every probe defaulter shares. policyProbe picks
// the probe's figures out of a policy; want is the probe the default policy gives.
func testProbeDefaulter(t *testing.T, id string, slot probeSlot, policyProbe func(*policy.Policy) *policy.Probe, want *corev1.Probe) {
	t.Helper()
	others := map[string]probeSlot{"liveness": livenessSlot, "readiness": readinessSlot, "startup": startupSlot}

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, apiDeployment(), pol())
	})

	t.Run("fills the guide's probe and nothing else", func(t *testing.T) {
		d := minimalAPIDeployment()
		assert.True(t, runDefault(t, id, d, pol()))
		c := &d.Spec.Template.Spec.Containers[0]
		assert.Equal(t, want, *slot(c))
		set := 0
		for _, s := range others {
			if *s(c) != nil {
				set++
			}
		}
		assert.Equal(t, 1, set, "only one probe may be set")
		// Every field the API server would default is spelled out.
		assert.Equal(t, corev1.URISchemeHTTP, (*slot(c)).HTTPGet.Scheme)
		assert.Equal(t, int32(1), (*slot(c)).TimeoutSeconds)
		assert.Equal(t, int32(1), (*slot(c)).SuccessThreshold)
		assertDefaultIdempotent(t, id, d, pol())
	})

	t.Run("an existing probe of a different kind is the user's", func(t *testing.T) {
		for name, handler := range map[string]corev1.ProbeHandler{
			"exec":      {Exec: &corev1.ExecAction{Command: []string{"laminar", "healthcheck"}}},
			"tcpSocket": {TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8000)}},
			"grpc":      {GRPC: &corev1.GRPCAction{Port: 9000}},
			"httpGet":   {HTTPGet: &corev1.HTTPGetAction{Path: "/livez", Port: intstr.FromString("http")}},
		} {
			t.Run(name, func(t *testing.T) {
				mine := &corev1.Probe{ProbeHandler: handler, PeriodSeconds: 7}
				d := minimalAPIDeployment(apiMain(func(c *corev1.Container) { *slot(c) = mine }))
				assertDefaultNoop(t, id, d, pol())
				assert.Equal(t, mine, *slot(&d.Spec.Template.Spec.Containers[0]))
			})
		}
	})

	t.Run("policy figures are used", func(t *testing.T) {
		p := pol(func(p *policy.Policy) {
			*policyProbe(p) = policy.Probe{Path: "/z", Port: 9090, InitialDelaySeconds: 1, PeriodSeconds: 2, FailureThreshold: 4}
		})
		d := minimalAPIDeployment()
		assert.True(t, runDefault(t, id, d, p))
		got := *slot(&d.Spec.Template.Spec.Containers[0])
		require.NotNil(t, got)
		assert.Equal(t, "/z", got.HTTPGet.Path)
		assert.Equal(t, intstr.FromInt32(9090), got.HTTPGet.Port)
		assert.Equal(t, int32(1), got.InitialDelaySeconds)
		assert.Equal(t, int32(2), got.PeriodSeconds)
		assert.Equal(t, int32(4), got.FailureThreshold)
	})

	t.Run("no containers", func(t *testing.T) {
		d := minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) { s.Containers = nil }))
		assertDefaultNoop(t, id, d, pol())
	})

	t.Run("main container", func(t *testing.T) {
		testAPIMainContainerSelection(t, func(t *testing.T, d *appsv1.Deployment, p *policy.Policy) []bool {
			assert.True(t, runDefault(t, id, d, p))
			var got []bool
			for i := range d.Spec.Template.Spec.Containers {
				got = append(got, *slot(&d.Spec.Template.Spec.Containers[i]) != nil)
			}
			return got
		})
	})
}

// testAPIMainContainerSelection checks a rule that touches the api's main container
// touches the right one: the one the policy names, else the one named after the
// role, else the first. touched runs the rule and reports which containers it changed.
func testAPIMainContainerSelection(t *testing.T, touched func(*testing.T, *appsv1.Deployment, *policy.Policy) []bool) {
	t.Helper()
	named := func(names ...string) func(*appsv1.Deployment) {
		return apiPod(func(s *corev1.PodSpec) {
			s.Containers = nil
			for _, n := range names {
				s.Containers = append(s.Containers, corev1.Container{Name: n, Image: "img"})
			}
		})
	}
	tests := []struct {
		name       string
		containers []string
		policyName string
		want       []bool
	}{
		{name: "the container the policy names", containers: []string{"api", "laminar"}, policyName: "laminar", want: []bool{false, true}},
		{name: "the container named after the role when the policy's is absent", containers: []string{"envoy", "api"}, policyName: "server", want: []bool{false, true}},
		{name: "the container named after the role when the policy names none", containers: []string{"envoy", "api"}, policyName: "", want: []bool{false, true}},
		{name: "the first container when no name matches", containers: []string{"laminar", "envoy"}, policyName: "server", want: []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pol(func(p *policy.Policy) { p.API.ContainerName = tc.policyName })
			d := minimalAPIDeployment(named(tc.containers...))
			assert.Equal(t, tc.want, touched(t, d, p))
		})
	}
}
