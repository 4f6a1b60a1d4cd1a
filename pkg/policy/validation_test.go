package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Each invalid value is an error naming its path in the file.
func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Policy)
		yaml  string
		field string
		typ   field.ErrorType
		// also lists the paths of errors that rightly come with the first.
		also []string
	}{
		{name: "apiVersion", yaml: "apiVersion: ha.laminar.io/v1\n", field: "apiVersion", typ: field.ErrorTypeNotSupported},
		{name: "kind", yaml: "kind: Config\n", field: "kind", typ: field.ErrorTypeNotSupported},
		{name: "negative exemption bound", yaml: "exemptions:\n  maxDuration: -24h\n", field: "exemptions.maxDuration", typ: field.ErrorTypeInvalid},
		{name: "api replicas min 0", yaml: "api:\n  replicas:\n    min: 0\n    recommended: 0\n", field: "api.replicas.min", typ: field.ErrorTypeInvalid},
		{name: "api recommended below min", yaml: "api:\n  replicas:\n    recommended: 1\n", field: "api.replicas.recommended", typ: field.ErrorTypeInvalid},
		{name: "controller replicas min negative", yaml: "controller:\n  replicas:\n    min: -1\n", field: "controller.replicas.min", typ: field.ErrorTypeInvalid},
		{name: "controller recommended below min", yaml: "controller:\n  replicas:\n    min: 4\n", field: "controller.replicas.recommended", typ: field.ErrorTypeInvalid},
		{name: "maxUnavailable not a number", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: some\n", field: "api.rollingUpdate.maxUnavailable", typ: field.ErrorTypeInvalid},
		{name: "maxSurge not a percentage", yaml: "api:\n  rollingUpdate:\n    maxSurge: \"1\"\n", field: "api.rollingUpdate.maxSurge", typ: field.ErrorTypeInvalid},
		{name: "both zero", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: 0%\n    maxSurge: 0\n", field: "api.rollingUpdate.maxSurge", typ: field.ErrorTypeInvalid},
		{name: "negative maxUnavailable", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: -1\n", field: "api.rollingUpdate.maxUnavailable", typ: field.ErrorTypeInvalid},
		{name: "negative maxSurge percentage", yaml: "api:\n  rollingUpdate:\n    maxSurge: -10%\n", field: "api.rollingUpdate.maxSurge", typ: field.ErrorTypeInvalid},
		{name: "maxUnavailable over 100%", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: 150%\n", field: "api.rollingUpdate.maxUnavailable", typ: field.ErrorTypeInvalid},
		{name: "api anti-affinity key", yaml: "api:\n  antiAffinity:\n    topologyKey: \"\"\n", field: "api.antiAffinity.topologyKey", typ: field.ErrorTypeRequired},
		{name: "api anti-affinity weight 0", yaml: "api:\n  antiAffinity:\n    weight: 0\n", field: "api.antiAffinity.weight", typ: field.ErrorTypeInvalid},
		{name: "api anti-affinity weight 101", yaml: "api:\n  antiAffinity:\n    weight: 101\n", field: "api.antiAffinity.weight", typ: field.ErrorTypeInvalid},
		{name: "controller anti-affinity takes no weight", yaml: "controller:\n  antiAffinity:\n    weight: 50\n", field: "controller.antiAffinity.weight", typ: field.ErrorTypeForbidden},
		{name: "controller anti-affinity key", yaml: "controller:\n  antiAffinity:\n    topologyKey: \"\"\n", field: "controller.antiAffinity.topologyKey", typ: field.ErrorTypeRequired},
		{name: "zone key", yaml: "api:\n  zoneSpread:\n    topologyKey: \"\"\n", field: "api.zoneSpread.topologyKey", typ: field.ErrorTypeRequired},
		{name: "zone skew", yaml: "api:\n  zoneSpread:\n    maxSkew: 0\n", field: "api.zoneSpread.maxSkew", typ: field.ErrorTypeInvalid},
		{name: "zone whenUnsatisfiable", yaml: "api:\n  zoneSpread:\n    whenUnsatisfiable: Sometimes\n", field: "api.zoneSpread.whenUnsatisfiable", typ: field.ErrorTypeNotSupported},
		{name: "probe path", yaml: "api:\n  probes:\n    liveness:\n      path: health\n", field: "api.probes.liveness.path", typ: field.ErrorTypeInvalid},
		{name: "probe port 0", yaml: "api:\n  probes:\n    readiness:\n      port: 0\n", field: "api.probes.readiness.port", typ: field.ErrorTypeInvalid},
		{name: "probe port 70000", yaml: "api:\n  probes:\n    startup:\n      port: 70000\n", field: "api.probes.startup.port", typ: field.ErrorTypeInvalid},
		{name: "probe delay", yaml: "api:\n  probes:\n    startup:\n      initialDelaySeconds: -1\n", field: "api.probes.startup.initialDelaySeconds", typ: field.ErrorTypeInvalid},
		{name: "probe period", yaml: "api:\n  probes:\n    readiness:\n      periodSeconds: 0\n", field: "api.probes.readiness.periodSeconds", typ: field.ErrorTypeInvalid},
		{name: "probe failures", yaml: "api:\n  probes:\n    liveness:\n      failureThreshold: 0\n", field: "api.probes.liveness.failureThreshold", typ: field.ErrorTypeInvalid},
		{name: "cpu 0", yaml: "api:\n  requests:\n    cpu: 0\n", field: "api.requests.cpu", typ: field.ErrorTypeInvalid},
		{name: "memory negative", yaml: "api:\n  requests:\n    memory: -1Mi\n", field: "api.requests.memory", typ: field.ErrorTypeInvalid},
		{name: "grace 0", yaml: "api:\n  terminationGracePeriodSeconds: 0\n  preStop:\n    seconds: 1\n", field: "api.terminationGracePeriodSeconds", typ: field.ErrorTypeInvalid,
			also: []string{"api.preStop.seconds"}},
		{name: "preStop mode", yaml: "api:\n  preStop:\n    mode: shell\n", field: "api.preStop.mode", typ: field.ErrorTypeNotSupported},
		{name: "preStop seconds 0", yaml: "api:\n  preStop:\n    seconds: 0\n", field: "api.preStop.seconds", typ: field.ErrorTypeInvalid},
		{name: "preStop seconds equal to grace", yaml: "api:\n  preStop:\n    seconds: 60\n", field: "api.preStop.seconds", typ: field.ErrorTypeInvalid},
		{name: "preStop seconds above grace", yaml: "api:\n  terminationGracePeriodSeconds: 5\n", field: "api.preStop.seconds", typ: field.ErrorTypeInvalid},
		{name: "lease not above renew", yaml: "controller:\n  leaderElection:\n    leaseDuration: 10s\n", field: "controller.leaderElection", typ: field.ErrorTypeInvalid},
		{name: "renew not above 1.2 × retry", yaml: "controller:\n  leaderElection:\n    retryPeriod: 9s\n", field: "controller.leaderElection", typ: field.ErrorTypeInvalid},
		{name: "retry 0", yaml: "controller:\n  leaderElection:\n    retryPeriod: 0s\n", field: "controller.leaderElection", typ: field.ErrorTypeInvalid},
		{name: "no fast storage classes", yaml: "controller:\n  storage:\n    fastStorageClasses: []\n", field: "controller.storage.fastStorageClasses", typ: field.ErrorTypeRequired},
		{name: "blank storage class", yaml: "controller:\n  storage:\n    fastStorageClasses: [gp3, \" \"]\n", field: "controller.storage.fastStorageClasses[1]", typ: field.ErrorTypeInvalid},
		{name: "min size 0", yaml: "controller:\n  storage:\n    minSize: \"0\"\n", field: "controller.storage.minSize", typ: field.ErrorTypeInvalid},
		{name: "no schemes", yaml: "controller:\n  checkpoints:\n    schemes: []\n", field: "controller.checkpoints.schemes", typ: field.ErrorTypeRequired},
		{name: "file scheme", yaml: "controller:\n  checkpoints:\n    schemes: [file]\n", field: "controller.checkpoints.schemes[0]", typ: field.ErrorTypeInvalid},
		{name: "scheme with ://", yaml: "controller:\n  checkpoints:\n    schemes: [s3, \"gs://\"]\n", field: "controller.checkpoints.schemes[1]", typ: field.ErrorTypeInvalid},
		{name: "empty scheme", yaml: "controller:\n  checkpoints:\n    schemes: [\"\"]\n", field: "controller.checkpoints.schemes[0]", typ: field.ErrorTypeInvalid},
		{name: "interval 0", yaml: "controller:\n  checkpoints:\n    maxInterval: 0s\n", field: "controller.checkpoints.maxInterval", typ: field.ErrorTypeInvalid},
		{name: "flag name empty", yaml: "controller:\n  settings:\n    leaderElect: {flag: \"\"}\n", field: "controller.settings.leaderElect.flag", typ: field.ErrorTypeRequired},
		{name: "flag name with dashes", yaml: "controller:\n  settings:\n    checkpointURL: {flag: --checkpoint-url}\n", field: "controller.settings.checkpointURL.flag", typ: field.ErrorTypeInvalid},
		{name: "flag name with =", yaml: "controller:\n  settings:\n    retryPeriod: {flag: \"retry=2s\"}\n", field: "controller.settings.retryPeriod.flag", typ: field.ErrorTypeInvalid},
		{name: "flag name with a space", yaml: "controller:\n  settings:\n    leaseDuration: {flag: \"lease duration\"}\n", field: "controller.settings.leaseDuration.flag", typ: field.ErrorTypeInvalid},
		{name: "flag name shared", yaml: "controller:\n  settings:\n    artifactsURL: {flag: checkpoint-url}\n", field: "controller.settings.artifactsURL.flag", typ: field.ErrorTypeDuplicate},
		{name: "env name empty", yaml: "controller:\n  settings:\n    renewDeadline: {env: \"\"}\n", field: "controller.settings.renewDeadline.env", typ: field.ErrorTypeRequired},
		{name: "env name with =", yaml: "controller:\n  settings:\n    leaderElect: {env: \"A=B\"}\n", field: "controller.settings.leaderElect.env", typ: field.ErrorTypeInvalid},
		{name: "env name starting with a digit", yaml: "controller:\n  settings:\n    checkpointInterval: {env: 1LAMINAR}\n", field: "controller.settings.checkpointInterval.env", typ: field.ErrorTypeInvalid},
		{name: "env name shared", yaml: "controller:\n  settings:\n    retryPeriod: {env: LAMINAR_LEADER_ELECT}\n", field: "controller.settings.retryPeriod.env", typ: field.ErrorTypeDuplicate},
		{name: "interval negative", yaml: "controller:\n  checkpoints:\n    maxInterval: -5s\n", field: "controller.checkpoints.maxInterval", typ: field.ErrorTypeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Parse reports the path in its error text.
			_, err := Parse([]byte(tc.yaml))
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), "policy is invalid")
				assert.Contains(t, err.Error(), tc.field+":")
			}
			// Validate reports it as a field error of the right type.
			p := Default()
			require.NoError(t, yaml.UnmarshalStrict([]byte(tc.yaml), p))
			errs := p.Validate()
			require.Len(t, errs, 1+len(tc.also), "%v", errs)
			assert.Equal(t, tc.field, errs[0].Field)
			assert.Equal(t, tc.typ, errs[0].Type)
			for i, f := range tc.also {
				assert.Equal(t, f, errs[1+i].Field)
			}
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	p := Default()
	p.API.Replicas.Min = 0
	p.Controller.Checkpoints.Schemes = []string{"file"}
	p.Controller.LeaderElection.RetryPeriod.Duration = 0
	var fields []string
	for _, e := range p.Validate() {
		fields = append(fields, e.Field)
	}
	assert.Equal(t, []string{"api.replicas.min", "controller.leaderElection", "controller.checkpoints.schemes[0]"}, fields)
}

func TestLeaderElectionTimingError(t *testing.T) {
	s := time.Second
	tests := []struct {
		lease, renew, retry time.Duration
		want                string
	}{
		{15 * s, 10 * s, 2 * s, ""},
		{60 * s, 40 * s, 5 * s, ""},
		{11 * s, 10 * s, 8 * s, ""},
		{10 * s, 10 * s, 2 * s, "lease duration (10s) must be greater than renew deadline (10s)"},
		{5 * s, 10 * s, 2 * s, "lease duration (5s)"},
		{15 * s, 12 * s, 10 * s, "renew deadline (12s) must be greater than 1.2 × retry period (10s)"},
		{15 * s, 10 * s, 0, "retry period must be positive"},
		{15 * s, 10 * s, -s, "retry period must be positive"},
		{0, -2 * s, s, "renew deadline (-2s)"},
		{-s, -2 * s, s, "renew deadline"},
	}
	for _, tc := range tests {
		got := LeaderElectionTimingError(tc.lease, tc.renew, tc.retry)
		if tc.want == "" {
			assert.Empty(t, got, "%s/%s/%s", tc.lease, tc.renew, tc.retry)
		} else {
			assert.Contains(t, got, tc.want, "%s/%s/%s", tc.lease, tc.renew, tc.retry)
		}
	}
}

// Each part's validation names fields below the path it is given, so a caller
// can validate a part of a policy embedded elsewhere.
func TestValidateFunctionsUseTheGivenPath(t *testing.T) {
	root := field.NewPath("spec", "ha")
	d := Default()
	zero := Probe{}
	tests := []struct {
		name string
		errs field.ErrorList
		want []string
	}{
		{"ValidateAPIPolicy", ValidateAPIPolicy(APIPolicy{}, root), []string{
			"spec.ha.replicas.min", "spec.ha.rollingUpdate.maxSurge", "spec.ha.antiAffinity.topologyKey", "spec.ha.antiAffinity.weight",
			"spec.ha.zoneSpread.topologyKey", "spec.ha.zoneSpread.maxSkew", "spec.ha.zoneSpread.whenUnsatisfiable",
			"spec.ha.probes.liveness.path", "spec.ha.probes.liveness.port", "spec.ha.probes.liveness.periodSeconds", "spec.ha.probes.liveness.failureThreshold",
			"spec.ha.probes.readiness.path", "spec.ha.probes.readiness.port", "spec.ha.probes.readiness.periodSeconds", "spec.ha.probes.readiness.failureThreshold",
			"spec.ha.probes.startup.path", "spec.ha.probes.startup.port", "spec.ha.probes.startup.periodSeconds", "spec.ha.probes.startup.failureThreshold",
			"spec.ha.requests.cpu", "spec.ha.requests.memory", "spec.ha.terminationGracePeriodSeconds",
			"spec.ha.ingress.alb.intervalSeconds",
			"spec.ha.preStop.mode", "spec.ha.preStop.seconds",
		}},
		{"ValidateControllerPolicy", ValidateControllerPolicy(ControllerPolicy{}, root), []string{
			"spec.ha.replicas.min", "spec.ha.antiAffinity.topologyKey",
			"spec.ha.zoneSpread.topologyKey", "spec.ha.zoneSpread.maxSkew", "spec.ha.zoneSpread.whenUnsatisfiable", "spec.ha.leaderElection",
			"spec.ha.storage.fastStorageClasses", "spec.ha.storage.minSize",
			"spec.ha.checkpoints.schemes", "spec.ha.checkpoints.maxInterval",
			"spec.ha.settings.leaderElect.flag", "spec.ha.settings.leaderElect.env",
			"spec.ha.settings.leaseDuration.flag", "spec.ha.settings.leaseDuration.env",
			"spec.ha.settings.renewDeadline.flag", "spec.ha.settings.renewDeadline.env",
			"spec.ha.settings.retryPeriod.flag", "spec.ha.settings.retryPeriod.env",
			"spec.ha.settings.checkpointURL.flag", "spec.ha.settings.checkpointURL.env",
			"spec.ha.settings.checkpointInterval.flag", "spec.ha.settings.checkpointInterval.env",
			"spec.ha.settings.artifactsURL.flag", "spec.ha.settings.artifactsURL.env",
		}},
		{"ValidateEnforcement", ValidateEnforcement(Enforcement{}, root), []string{"spec.ha.mode", "spec.ha.mutate"}},
		{"ValidateReplicas", ValidateReplicas(Replicas{Min: 3, Recommended: 2}, root), []string{"spec.ha.recommended"}},
		{"ValidateRollingUpdate", ValidateRollingUpdate(RollingUpdate{}, root), []string{"spec.ha.maxSurge"}},
		{"ValidatePreferredAntiAffinity", ValidatePreferredAntiAffinity(AntiAffinity{TopologyKey: "k"}, root), []string{"spec.ha.weight"}},
		{"ValidateRequiredAntiAffinity", ValidateRequiredAntiAffinity(AntiAffinity{TopologyKey: "k", Weight: 1}, root), []string{"spec.ha.weight"}},
		{"ValidateZoneSpread", ValidateZoneSpread(ZoneSpread{TopologyKey: "k", MaxSkew: 1}, root), []string{"spec.ha.whenUnsatisfiable"}},
		{"ValidateProbes", ValidateProbes(Probes{Liveness: d.API.Probes.Liveness, Readiness: d.API.Probes.Readiness, Startup: Probe{Path: "/", Port: 1, PeriodSeconds: 1}}, root),
			[]string{"spec.ha.startup.failureThreshold"}},
		{"ValidateProbe", ValidateProbe(zero, root), []string{"spec.ha.path", "spec.ha.port", "spec.ha.periodSeconds", "spec.ha.failureThreshold"}},
		{"ValidateResourceRequest", ValidateResourceRequest(ResourceRequest{CPU: d.API.Requests.CPU}, root), []string{"spec.ha.memory"}},
		{"ValidatePreStop", ValidatePreStop(PreStop{Mode: PreStopSleep}, root), []string{"spec.ha.seconds"}},
		{"ValidateLeaderElection", ValidateLeaderElection(LeaderElection{}, root), []string{"spec.ha"}},
		{"ValidateStorage", ValidateStorage(Storage{FastStorageClasses: []string{""}, MinSize: d.Controller.Storage.MinSize}, root), []string{"spec.ha.fastStorageClasses[0]"}},
		{"ValidateCheckpoints", ValidateCheckpoints(Checkpoints{Schemes: []string{"s3"}}, root), []string{"spec.ha.maxInterval"}},
		{"ValidateControllerSettings", ValidateControllerSettings(withSetting(d.Controller.Settings, Setting{Flag: "x", Env: "A B"}), root),
			[]string{"spec.ha.artifactsURL.env"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range tc.errs {
				got = append(got, e.Field)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func withSetting(s ControllerSettings, a Setting) ControllerSettings {
	s.ArtifactsURL = a
	return s
}

// The guide's defaults pass every part's validation on its own.
func TestValidateFunctionsAcceptTheDefaults(t *testing.T) {
	d := Default()
	root := field.NewPath("x")
	assert.Empty(t, ValidateAPIPolicy(d.API, root))
	assert.Empty(t, ValidateControllerPolicy(d.Controller, root))
	assert.Empty(t, ValidateEnforcement(d.Enforcement, root))
}

// The message for a preStop that outlasts the grace period names the grace
// period by its path, whatever path the api policy is validated under.
func TestPreStopMessageNamesTheGracePeriod(t *testing.T) {
	a := Default().API
	a.PreStop.Seconds = a.TerminationGracePeriodSeconds
	errs := ValidateAPIPolicy(a, field.NewPath("api"))
	require.Len(t, errs, 1)
	assert.Equal(t, "api.preStop.seconds: Invalid value: 60: must be shorter than api.terminationGracePeriodSeconds (60), or the kubelet kills the pod mid-drain", errs[0].Error())
	errs = ValidateAPIPolicy(a, field.NewPath("spec"))
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "must be shorter than spec.terminationGracePeriodSeconds (60)")
}

// A nil policy is an error, not a panic.
func TestValidateNilPolicy(t *testing.T) {
	var p *Policy
	errs := p.Validate()
	require.Len(t, errs, 1)
	assert.Equal(t, field.ErrorTypeRequired, errs[0].Type)
}

func TestValidateIngressPolicy(t *testing.T) {
	path := field.NewPath("api", "ingress")
	for _, n := range []int32{5, 15, 300} {
		assert.Empty(t, ValidateIngressPolicy(IngressPolicy{ALB: ALBHealthCheck{IntervalSeconds: n}}, path), "%d", n)
	}
	for _, n := range []int32{0, 4, 301, -1} {
		errs := ValidateIngressPolicy(IngressPolicy{ALB: ALBHealthCheck{IntervalSeconds: n}}, path)
		if assert.Len(t, errs, 1, "%d", n) {
			assert.Equal(t, "api.ingress.alb.intervalSeconds", errs[0].Field)
			assert.Equal(t, field.ErrorTypeInvalid, errs[0].Type)
		}
	}
}
