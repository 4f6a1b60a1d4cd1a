// Package policy holds the figures the HA rules enforce. Every value defaults to
// the Laminar HA guide; a policy file only needs the values a cluster changes.
package policy

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// APIVersion and Kind identify a policy file.
const (
	APIVersion = "ha.laminar.io/v1alpha1"
	Kind       = "Policy"
)

// PreStop modes: the guide's shell sleep, or the kubelet's native sleep action for
// images that ship no shell.
const (
	PreStopExec  = "exec"
	PreStopSleep = "sleep"
)

// Policy is the whole policy file.
type Policy struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`

	// TreatKubernetesDefaultsAsUnset makes mutation replace values the API server
	// fills in before admission (Deployment strategy 25%/25%, grace period 30s),
	// because at admission time they cannot be told apart from fields the user left out.
	TreatKubernetesDefaultsAsUnset *bool `json:"treatKubernetesDefaultsAsUnset,omitempty"`

	// Enforcement decides what violations do where a namespace does not say.
	Enforcement Enforcement `json:"enforcement"`

	API        APIPolicy        `json:"api"`
	Controller ControllerPolicy `json:"controller"`
}

// Enforcement modes, as the namespace labels ha.laminar.io/enforce and
// ha.laminar.io/mutate spell them.
const (
	ModeDeny    = "deny"
	ModeWarn    = "warn"
	ModeOff     = "off"
	MutateOn    = "on"
	MutateOff   = "off"
	LabelMode   = "ha.laminar.io/enforce"
	LabelMutate = "ha.laminar.io/mutate"
)

// Enforcement is the cluster-wide default of the per-namespace switches.
type Enforcement struct {
	// Mode applies to namespaces without the ha.laminar.io/enforce label.
	Mode string `json:"mode"`
	// Mutate applies to namespaces without the ha.laminar.io/mutate label.
	Mutate string `json:"mutate"`
	// Ratchet lets an UPDATE keep a violation the old object already had (as a
	// warning), so an urgent change is never blocked by an unrelated old problem.
	Ratchet bool `json:"ratchet"`
}

// Replicas sets the replica floor (deny) and the recommended count (warn).
type Replicas struct {
	Min         int32 `json:"min"`
	Recommended int32 `json:"recommended"`
}

// APIPolicy is what the API server Deployment gets and must keep.
type APIPolicy struct {
	ContainerName                 string          `json:"containerName,omitempty"`
	Replicas                      Replicas        `json:"replicas"`
	RollingUpdate                 RollingUpdate   `json:"rollingUpdate"`
	AntiAffinity                  AntiAffinity    `json:"antiAffinity"`
	ZoneSpread                    ZoneSpread      `json:"zoneSpread"`
	Probes                        Probes          `json:"probes"`
	Requests                      ResourceRequest `json:"requests"`
	TerminationGracePeriodSeconds int64           `json:"terminationGracePeriodSeconds"`
	PreStop                       PreStop         `json:"preStop"`
}

// RollingUpdate is the Deployment strategy injected for zero-downtime updates.
type RollingUpdate struct {
	MaxUnavailable intstr.IntOrString `json:"maxUnavailable"`
	MaxSurge       intstr.IntOrString `json:"maxSurge"`
}

// AntiAffinity spreads replicas across nodes.
type AntiAffinity struct {
	TopologyKey string `json:"topologyKey"`
	// Weight is used for the api's preferred term; the controller's term is
	// required and takes none, so setting it there is an error.
	Weight int32 `json:"weight,omitempty"`
}

// ZoneSpread is the topology spread constraint across zones.
type ZoneSpread struct {
	TopologyKey       string `json:"topologyKey"`
	MaxSkew           int32  `json:"maxSkew"`
	WhenUnsatisfiable string `json:"whenUnsatisfiable"`
}

// Probe is one HTTP probe on the main container.
type Probe struct {
	Path                string `json:"path"`
	Port                int32  `json:"port"`
	InitialDelaySeconds int32  `json:"initialDelaySeconds"`
	PeriodSeconds       int32  `json:"periodSeconds"`
	FailureThreshold    int32  `json:"failureThreshold"`
}

// Probes are the three probes the guide sets on the api.
type Probes struct {
	Liveness  Probe `json:"liveness"`
	Readiness Probe `json:"readiness"`
	Startup   Probe `json:"startup"`
}

// ResourceRequest is filled into the main container when it requests nothing.
type ResourceRequest struct {
	CPU    resource.Quantity `json:"cpu"`
	Memory resource.Quantity `json:"memory"`
}

// PreStop delays shutdown so load balancers stop sending traffic first.
type PreStop struct {
	Mode    string `json:"mode"`
	Seconds int64  `json:"seconds"`
}

// ControllerPolicy is what the controller StatefulSet gets and must keep.
type ControllerPolicy struct {
	ContainerName  string         `json:"containerName,omitempty"`
	Replicas       Replicas       `json:"replicas"`
	AntiAffinity   AntiAffinity   `json:"antiAffinity"`
	LeaderElection LeaderElection `json:"leaderElection"`
	Storage        Storage        `json:"storage"`
	Checkpoints    Checkpoints    `json:"checkpoints"`
}

// LeaderElection holds the flag values injected when the controller sets none.
type LeaderElection struct {
	LeaseDuration metav1.Duration `json:"leaseDuration"`
	RenewDeadline metav1.Duration `json:"renewDeadline"`
	RetryPeriod   metav1.Duration `json:"retryPeriod"`
}

// Storage is what RocksDB's volume must be.
type Storage struct {
	// VolumeName names the claim template RocksDB lives on; empty means any claim
	// template the main container mounts.
	VolumeName         string            `json:"volumeName,omitempty"`
	FastStorageClasses []string          `json:"fastStorageClasses"`
	MinSize            resource.Quantity `json:"minSize"`
}

// Checkpoints is where RocksDB backups must go.
type Checkpoints struct {
	Schemes     []string        `json:"schemes"`
	MaxInterval metav1.Duration `json:"maxInterval"`
}

// Default returns the guide's figures.
func Default() *Policy {
	yes := true
	probe := func(path string, delay, period, failures int32) Probe {
		return Probe{Path: path, Port: 8000, InitialDelaySeconds: delay, PeriodSeconds: period, FailureThreshold: failures}
	}
	return &Policy{
		APIVersion:                     APIVersion,
		Kind:                           Kind,
		TreatKubernetesDefaultsAsUnset: &yes,
		Enforcement:                    Enforcement{Mode: ModeDeny, Mutate: MutateOn, Ratchet: true},
		API: APIPolicy{
			ContainerName: "api",
			Replicas:      Replicas{Min: 2, Recommended: 3},
			RollingUpdate: RollingUpdate{MaxUnavailable: intstr.FromInt32(0), MaxSurge: intstr.FromInt32(1)},
			AntiAffinity:  AntiAffinity{TopologyKey: "kubernetes.io/hostname", Weight: 100},
			ZoneSpread:    ZoneSpread{TopologyKey: "topology.kubernetes.io/zone", MaxSkew: 1, WhenUnsatisfiable: "DoNotSchedule"},
			Probes: Probes{
				Liveness:  probe("/health", 30, 10, 3),
				Readiness: probe("/ready", 5, 5, 3),
				Startup:   probe("/health", 10, 10, 30),
			},
			Requests:                      ResourceRequest{CPU: resource.MustParse("500m"), Memory: resource.MustParse("512Mi")},
			TerminationGracePeriodSeconds: 60,
			PreStop:                       PreStop{Mode: PreStopExec, Seconds: 10},
		},
		Controller: ControllerPolicy{
			ContainerName: "controller",
			Replicas:      Replicas{Min: 2, Recommended: 3},
			AntiAffinity:  AntiAffinity{TopologyKey: "kubernetes.io/hostname"},
			LeaderElection: LeaderElection{
				LeaseDuration: metav1.Duration{Duration: 15 * time.Second},
				RenewDeadline: metav1.Duration{Duration: 10 * time.Second},
				RetryPeriod:   metav1.Duration{Duration: 2 * time.Second},
			},
			Storage: Storage{
				FastStorageClasses: []string{"gp3", "premium-rwo", "managed-csi-premium"},
				MinSize:            resource.MustParse("100Gi"),
			},
			Checkpoints: Checkpoints{
				Schemes:     []string{"s3", "gs", "azblob"},
				MaxInterval: metav1.Duration{Duration: 30 * time.Second},
			},
		},
	}
}

// KubernetesDefaultsAsUnset reports whether API-server defaults count as unset.
func (p *Policy) KubernetesDefaultsAsUnset() bool {
	return p.TreatKubernetesDefaultsAsUnset == nil || *p.TreatKubernetesDefaultsAsUnset
}

// Parse reads a policy document over the defaults: fields it leaves out keep the
// guide's value. Unknown fields are errors, so a typo never silently falls back.
func Parse(data []byte) (*Policy, error) {
	p := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalStrict(data, p); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		// IntOrString's decoder sets only the half it reads, so a value read over a
		// default of the other type keeps a stale other half; clear it.
		normalizeIntOrString(&p.API.RollingUpdate.MaxUnavailable)
		normalizeIntOrString(&p.API.RollingUpdate.MaxSurge)
	}
	if errs := p.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("policy is invalid: %w", errs.ToAggregate())
	}
	return p, nil
}

// Load reads and validates a policy file. An empty path means the defaults.
func Load(path string) (*Policy, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Validate checks every value; the error list names each bad field by its path in the file.
func (p *Policy) Validate() field.ErrorList {
	var errs field.ErrorList
	if p.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), p.APIVersion, []string{APIVersion}))
	}
	if p.Kind != Kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), p.Kind, []string{Kind}))
	}
	api := field.NewPath("api")
	errs = append(errs, validateReplicas(api.Child("replicas"), p.API.Replicas)...)
	errs = append(errs, validateRollingUpdate(api.Child("rollingUpdate"), p.API.RollingUpdate)...)
	errs = append(errs, validateAntiAffinity(api.Child("antiAffinity"), p.API.AntiAffinity, true)...)
	errs = append(errs, validateZoneSpread(api.Child("zoneSpread"), p.API.ZoneSpread)...)
	probes := api.Child("probes")
	errs = append(errs, validateProbe(probes.Child("liveness"), p.API.Probes.Liveness)...)
	errs = append(errs, validateProbe(probes.Child("readiness"), p.API.Probes.Readiness)...)
	errs = append(errs, validateProbe(probes.Child("startup"), p.API.Probes.Startup)...)
	errs = append(errs, validatePositiveQuantity(api.Child("requests", "cpu"), p.API.Requests.CPU)...)
	errs = append(errs, validatePositiveQuantity(api.Child("requests", "memory"), p.API.Requests.Memory)...)
	if p.API.TerminationGracePeriodSeconds < 1 {
		errs = append(errs, field.Invalid(api.Child("terminationGracePeriodSeconds"), p.API.TerminationGracePeriodSeconds, "must be at least 1"))
	}
	pre := api.Child("preStop")
	if p.API.PreStop.Mode != PreStopExec && p.API.PreStop.Mode != PreStopSleep {
		errs = append(errs, field.NotSupported(pre.Child("mode"), p.API.PreStop.Mode, []string{PreStopExec, PreStopSleep}))
	}
	if p.API.PreStop.Seconds < 1 {
		errs = append(errs, field.Invalid(pre.Child("seconds"), p.API.PreStop.Seconds, "must be at least 1"))
	} else if p.API.PreStop.Seconds >= p.API.TerminationGracePeriodSeconds {
		errs = append(errs, field.Invalid(pre.Child("seconds"), p.API.PreStop.Seconds,
			fmt.Sprintf("must be shorter than api.terminationGracePeriodSeconds (%d), or the kubelet kills the pod mid-drain", p.API.TerminationGracePeriodSeconds)))
	}

	enf := field.NewPath("enforcement")
	if !slices.Contains([]string{ModeDeny, ModeWarn, ModeOff}, p.Enforcement.Mode) {
		errs = append(errs, field.NotSupported(enf.Child("mode"), p.Enforcement.Mode, []string{ModeDeny, ModeWarn, ModeOff}))
	}
	if !slices.Contains([]string{MutateOn, MutateOff}, p.Enforcement.Mutate) {
		errs = append(errs, field.NotSupported(enf.Child("mutate"), p.Enforcement.Mutate, []string{MutateOn, MutateOff}))
	}

	ctl := field.NewPath("controller")
	errs = append(errs, validateReplicas(ctl.Child("replicas"), p.Controller.Replicas)...)
	errs = append(errs, validateAntiAffinity(ctl.Child("antiAffinity"), p.Controller.AntiAffinity, false)...)
	le := p.Controller.LeaderElection
	lep := ctl.Child("leaderElection")
	if msg := LeaderElectionTimingError(le.LeaseDuration.Duration, le.RenewDeadline.Duration, le.RetryPeriod.Duration); msg != "" {
		errs = append(errs, field.Invalid(lep, fmt.Sprintf("%s/%s/%s", le.LeaseDuration.Duration, le.RenewDeadline.Duration, le.RetryPeriod.Duration), msg))
	}
	st := ctl.Child("storage")
	if len(p.Controller.Storage.FastStorageClasses) == 0 {
		errs = append(errs, field.Required(st.Child("fastStorageClasses"), "name at least one storage class RocksDB may use"))
	}
	for i, c := range p.Controller.Storage.FastStorageClasses {
		if strings.TrimSpace(c) == "" {
			errs = append(errs, field.Invalid(st.Child("fastStorageClasses").Index(i), c, "must not be empty"))
		}
	}
	errs = append(errs, validatePositiveQuantity(st.Child("minSize"), p.Controller.Storage.MinSize)...)
	cp := ctl.Child("checkpoints")
	if len(p.Controller.Checkpoints.Schemes) == 0 {
		errs = append(errs, field.Required(cp.Child("schemes"), "name at least one object-store URL scheme, such as s3"))
	}
	for i, s := range p.Controller.Checkpoints.Schemes {
		if s == "" || s == "file" || strings.ContainsAny(s, ":/") {
			errs = append(errs, field.Invalid(cp.Child("schemes").Index(i), s, "must be a bare URL scheme of durable object storage, such as s3"))
		}
	}
	if p.Controller.Checkpoints.MaxInterval.Duration <= 0 {
		errs = append(errs, field.Invalid(cp.Child("maxInterval"), p.Controller.Checkpoints.MaxInterval.Duration.String(), "must be positive"))
	}
	return errs
}

// LeaderElectionTimingError applies client-go's own constraints on leader-election
// timings and says what is wrong, or returns "" when they hold.
func LeaderElectionTimingError(lease, renew, retry time.Duration) string {
	switch {
	case retry <= 0:
		return "retry period must be positive"
	case lease <= renew:
		return fmt.Sprintf("lease duration (%s) must be greater than renew deadline (%s)", lease, renew)
	case float64(renew) <= 1.2*float64(retry):
		return fmt.Sprintf("renew deadline (%s) must be greater than 1.2 × retry period (%s)", renew, retry)
	}
	return ""
}

func validateReplicas(path *field.Path, r Replicas) field.ErrorList {
	var errs field.ErrorList
	if r.Min < 1 {
		errs = append(errs, field.Invalid(path.Child("min"), r.Min, "must be at least 1"))
	}
	if r.Recommended < r.Min {
		errs = append(errs, field.Invalid(path.Child("recommended"), r.Recommended, fmt.Sprintf("must not be below min (%d)", r.Min)))
	}
	return errs
}

// normalizeIntOrString clears the half of v its type does not use.
func normalizeIntOrString(v *intstr.IntOrString) {
	if v.Type == intstr.String {
		v.IntVal = 0
	} else {
		v.StrVal = ""
	}
}

func validateRollingUpdate(path *field.Path, r RollingUpdate) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name string
		v    intstr.IntOrString
	}{{"maxUnavailable", r.MaxUnavailable}, {"maxSurge", r.MaxSurge}} {
		// Scaled against 100, a number and a percentage both read as a percentage.
		n, err := intstr.GetScaledValueFromIntOrPercent(&f.v, 100, false)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(path.Child(f.name), f.v.String(), "must be a whole number or a percentage such as 25%"))
		case n < 0:
			errs = append(errs, field.Invalid(path.Child(f.name), f.v.String(), "must not be negative"))
		case f.name == "maxUnavailable" && f.v.Type == intstr.String && n > 100:
			errs = append(errs, field.Invalid(path.Child(f.name), f.v.String(), "must not be more than 100%"))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	u, _ := intstr.GetScaledValueFromIntOrPercent(&r.MaxUnavailable, 100, false)
	s, _ := intstr.GetScaledValueFromIntOrPercent(&r.MaxSurge, 100, true)
	if u == 0 && s == 0 {
		errs = append(errs, field.Invalid(path.Child("maxSurge"), r.MaxSurge.String(), "may not be 0 when maxUnavailable is 0"))
	}
	return errs
}

func validateAntiAffinity(path *field.Path, a AntiAffinity, preferred bool) field.ErrorList {
	var errs field.ErrorList
	if a.TopologyKey == "" {
		errs = append(errs, field.Required(path.Child("topologyKey"), "such as kubernetes.io/hostname"))
	}
	switch {
	case preferred && (a.Weight < 1 || a.Weight > 100):
		errs = append(errs, field.Invalid(path.Child("weight"), a.Weight, "must be between 1 and 100"))
	case !preferred && a.Weight != 0:
		// Accepting it would let a setting silently do nothing.
		errs = append(errs, field.Forbidden(path.Child("weight"), "this anti-affinity term is required, so it takes no weight"))
	}
	return errs
}

func validateZoneSpread(path *field.Path, z ZoneSpread) field.ErrorList {
	var errs field.ErrorList
	if z.TopologyKey == "" {
		errs = append(errs, field.Required(path.Child("topologyKey"), "such as topology.kubernetes.io/zone"))
	}
	if z.MaxSkew < 1 {
		errs = append(errs, field.Invalid(path.Child("maxSkew"), z.MaxSkew, "must be at least 1"))
	}
	if z.WhenUnsatisfiable != "DoNotSchedule" && z.WhenUnsatisfiable != "ScheduleAnyway" {
		errs = append(errs, field.NotSupported(path.Child("whenUnsatisfiable"), z.WhenUnsatisfiable, []string{"DoNotSchedule", "ScheduleAnyway"}))
	}
	return errs
}

func validateProbe(path *field.Path, p Probe) field.ErrorList {
	var errs field.ErrorList
	if !strings.HasPrefix(p.Path, "/") {
		errs = append(errs, field.Invalid(path.Child("path"), p.Path, "must start with /"))
	}
	if p.Port < 1 || p.Port > 65535 {
		errs = append(errs, field.Invalid(path.Child("port"), p.Port, "must be between 1 and 65535"))
	}
	if p.InitialDelaySeconds < 0 {
		errs = append(errs, field.Invalid(path.Child("initialDelaySeconds"), p.InitialDelaySeconds, "must not be negative"))
	}
	if p.PeriodSeconds < 1 {
		errs = append(errs, field.Invalid(path.Child("periodSeconds"), p.PeriodSeconds, "must be at least 1"))
	}
	if p.FailureThreshold < 1 {
		errs = append(errs, field.Invalid(path.Child("failureThreshold"), p.FailureThreshold, "must be at least 1"))
	}
	return errs
}

func validatePositiveQuantity(path *field.Path, q resource.Quantity) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(path, q.String(), "must be greater than zero")}
	}
	return nil
}
