// Package policy holds the figures the HA rules enforce. Every value defaults to
// the Laminar HA guide; a policy file only needs the values a cluster changes.
//
// The types are here, the guide's values in defaults.go, reading a file in
// load.go, and the checks of each part in validation*.go.
package policy

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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
	// Exemptions decides who may grant an exemption, and for how long.
	Exemptions Exemptions `json:"exemptions"`
	// Nodes decides whether the cluster's nodes shape the defaults.
	Nodes Nodes `json:"nodes"`

	API        APIPolicy        `json:"api"`
	Controller ControllerPolicy `json:"controller"`

	// Rules sets single rules' actions by ID over the catalog's (docs/rules.md):
	// deny, warn, audit or off for a check, default or off for a default. A team
	// rolls one rule out softly here without putting a namespace on warn.
	Rules map[string]RuleAction `json:"rules,omitempty"`
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
	// AnnotationEnforcedSince records on a Namespace when its enforcement was
	// last switched back on from off (RFC 3339, set by the webhook): objects
	// created before it may have been written while nothing judged them, so
	// their violations are never a ratchet baseline.
	AnnotationEnforcedSince = "ha.laminar.io/enforced-since"
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

// Exemptions decides who may grant an exemption, and for how long. Both are
// judged when a workload's exemption annotations are added or changed, never
// on later edits that leave them as they are.
type Exemptions struct {
	// SelfService lets anyone who may edit a workload exempt it. Off by default:
	// granting an exemption then needs the verb grant on exemptions.ha.laminar.io
	// in the workload's namespace (ClusterRole laminar-ha-exemption-granter).
	SelfService bool `json:"selfService"`
	// MaxDuration bounds how far ahead of the change ha.laminar.io/exempt-until
	// may be; an exemption must then name an expiry. Zero means no bound.
	MaxDuration metav1.Duration `json:"maxDuration,omitempty"`
}

// Nodes decides whether the nodes that exist shape the zone defaults. By
// default they do: no zone spread is injected where the schedulable nodes lack
// the zone label or share one zone, since the pods would stay Pending.
type Nodes struct {
	// AssumeMultiZone ignores the nodes and always assumes the guide's cluster
	// of several zones: for node autoscalers that add nodes in any zone on
	// demand (Karpenter, a cluster autoscaler scaling node groups from zero).
	AssumeMultiZone bool `json:"assumeMultiZone"`
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
	// Ingress is what an Ingress routing to the api gets (ingress.go).
	Ingress IngressPolicy `json:"ingress"`
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
	ContainerName string       `json:"containerName,omitempty"`
	Replicas      Replicas     `json:"replicas"`
	AntiAffinity  AntiAffinity `json:"antiAffinity"`
	// ZoneSpread places replicas in different zones: their volumes are zonal.
	ZoneSpread     ZoneSpread     `json:"zoneSpread"`
	LeaderElection LeaderElection `json:"leaderElection"`
	Storage        Storage        `json:"storage"`
	Checkpoints    Checkpoints    `json:"checkpoints"`
	// Settings names the flags and environment variables the rules read each
	// setting from. The guide gives Helm values only; these names are this
	// project's assumption about the Laminar binary, to be matched against the
	// real image.
	Settings ControllerSettings `json:"settings"`
}

// ControllerSettings is where the controller binary is assumed to read each
// setting the rules judge or default.
type ControllerSettings struct {
	LeaderElect        Setting `json:"leaderElect"`
	LeaseDuration      Setting `json:"leaseDuration"`
	RenewDeadline      Setting `json:"renewDeadline"`
	RetryPeriod        Setting `json:"retryPeriod"`
	CheckpointURL      Setting `json:"checkpointURL"`
	CheckpointInterval Setting `json:"checkpointInterval"`
	ArtifactsURL       Setting `json:"artifactsURL"`
}

// Setting names one setting as a command-line flag (without dashes) and as an
// environment variable. A flag the user gives wins over the variable, as the
// binary is assumed to read them.
type Setting struct {
	Flag string `json:"flag"`
	Env  string `json:"env"`
}

// LeaderElection holds the timings injected when the controller sets none.
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
