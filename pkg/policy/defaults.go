package policy

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

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
		Rules:                          map[string]RuleAction{},
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
			Ingress:                       IngressPolicy{ALB: ALBHealthCheck{IntervalSeconds: 15}},
		},
		Controller: ControllerPolicy{
			ContainerName: "controller",
			Replicas:      Replicas{Min: 2, Recommended: 2},
			AntiAffinity:  AntiAffinity{TopologyKey: "kubernetes.io/hostname"},
			ZoneSpread:    ZoneSpread{TopologyKey: "topology.kubernetes.io/zone", MaxSkew: 1, WhenUnsatisfiable: "DoNotSchedule"},
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
			Settings: ControllerSettings{
				LeaderElect:        Setting{Flag: "leader-elect", Env: "LAMINAR_LEADER_ELECT"},
				LeaseDuration:      Setting{Flag: "leader-elect-lease-duration", Env: "LAMINAR_LEADER_ELECT_LEASE_DURATION"},
				RenewDeadline:      Setting{Flag: "leader-elect-renew-deadline", Env: "LAMINAR_LEADER_ELECT_RENEW_DEADLINE"},
				RetryPeriod:        Setting{Flag: "leader-elect-retry-period", Env: "LAMINAR_LEADER_ELECT_RETRY_PERIOD"},
				CheckpointURL:      Setting{Flag: "checkpoint-url", Env: "LAMINAR_CHECKPOINT_URL"},
				CheckpointInterval: Setting{Flag: "checkpoint-interval", Env: "LAMINAR_CHECKPOINT_INTERVAL"},
				ArtifactsURL:       Setting{Flag: "artifacts-url", Env: "LAMINAR_ARTIFACTS_URL"},
			},
		},
	}
}

// KubernetesDefaultsAsUnset reports whether API-server defaults count as unset.
func (p *Policy) KubernetesDefaultsAsUnset() bool {
	return p.TreatKubernetesDefaultsAsUnset == nil || *p.TreatKubernetesDefaultsAsUnset
}
