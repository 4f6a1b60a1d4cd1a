package rules

import (
	"iter"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// Sections of the Laminar HA guide, as its headings read.
const (
	secMinimum       = "Minimum HA Configuration"
	secMultiReplicas = "API Server HA › Multiple Replicas"
	secMultiZone     = "API Server HA › Multi-Zone Distribution"
	secController    = "Controller HA"
	secFastStorage   = "RocksDB Storage HA › Fast Storage"
	secBackup        = "RocksDB Storage HA › Backup to Object Storage"
	secProbes        = "Health Probes"
	secShutdown      = "Graceful Shutdown"
	secDRCheckpoints = "Disaster Recovery › Object Storage for Checkpoints"
	secOperating     = "— (exemptions)"
	secPDB           = "Pod Disruption Budgets"
	secZoneOutage    = "Overview › Zone outages"
	secService       = "Load Balancing › Kubernetes Service"
	secIngressHealth = "Load Balancing › Ingress Health Checks"
	kindDeployment   = workload.KindDeployment
	kindStatefulSet  = workload.KindStatefulSet
	roleAPI          = workload.RoleAPI
	roleController   = workload.RoleController
)

var (
	api        = []workload.Role{roleAPI}
	controller = []workload.Role{roleController}
	both       = []workload.Role{roleAPI, roleController}
)

// The four tables are the catalog, in its documented order: defaults, related
// defaults, checks, related checks. IDs are stable: never rename one, retire it.
//
// Retired IDs, never to be used again: labels-selectable (warned that the
// webhook configurations, which selected by the object's own labels, would not
// see a workload labelled only on its pods; they select by the pod template now).

// defaults are filled by the mutating webhook when the user left the field unset.
var defaults = []Default{
	{Meta: Meta{ID: "set-api-strategy", Roles: api, Section: secMultiReplicas,
		Summary: "RollingUpdate with maxUnavailable 0 and maxSurge 1."}, WorkloadKinds: []string{kindDeployment}, Fill: setAPIStrategy},
	{Meta: Meta{ID: "set-api-anti-affinity", Roles: api, Section: secMultiReplicas,
		Summary: "Preferred pod anti-affinity on kubernetes.io/hostname, weight 100, selecting the pods' own label; not appended to a preferred list of the user's (the list is atomic, an appended term would drift: api-anti-affinity asks for it)."}, Fill: setAPIAntiAffinity},
	{Meta: Meta{ID: "set-api-zone-spread", Roles: api, Section: secMultiZone,
		Summary: "Topology spread over topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule, counting only the current ReplicaSet's pods (matchLabelKeys pod-template-hash) and honouring node taints. Only where every schedulable node carries the zone label and there are two zones or more."}, Fill: setAPIZoneSpread},
	{Meta: Meta{ID: "set-api-liveness-probe", Roles: api, Section: secProbes,
		Summary: "Liveness probe GET /health:8000, delay 30s, period 10s, 3 failures."}, Fill: setAPILivenessProbe},
	{Meta: Meta{ID: "set-api-readiness-probe", Roles: api, Section: secProbes,
		Summary: "Readiness probe GET /ready:8000, delay 5s, period 5s, 3 failures."}, Fill: setAPIReadinessProbe},
	{Meta: Meta{ID: "set-api-startup-probe", Roles: api, Section: secProbes,
		Summary: "Startup probe GET /health:8000, delay 10s, period 10s, 30 failures."}, Fill: setAPIStartupProbe},
	{Meta: Meta{ID: "set-api-requests", Roles: api, Section: secMinimum,
		Summary: "Requests cpu 500m and memory 512Mi where neither request nor limit is set."}, Fill: setAPIRequests},
	{Meta: Meta{ID: "set-api-grace-period", Roles: api, Section: secShutdown,
		Summary: "terminationGracePeriodSeconds 60."}, Fill: setAPIGracePeriod},
	{Meta: Meta{ID: "set-api-prestop", Roles: api, Section: secShutdown,
		Summary: "preStop delay of 10s: exec `/bin/sh -c \"sleep 10\"`, or the native sleep action by policy."}, Fill: setAPIPreStop},
	{Meta: Meta{ID: "set-controller-anti-affinity", Roles: controller, Section: secController,
		Summary: "Required pod anti-affinity on kubernetes.io/hostname, selecting the pods' own label; not where the replicas outnumber the schedulable nodes, nor appended to a required list of the user's (atomic: it would drift)."}, Fill: setControllerAntiAffinity},
	{Meta: Meta{ID: "set-controller-zone-spread", Roles: controller, Section: secZoneOutage,
		Summary: "Topology spread over topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule, honouring node taints; beyond the guide, because RocksDB's volumes are zonal. Only where every schedulable node carries the zone label and there are two zones or more."}, Fill: setControllerZoneSpread},
	{Meta: Meta{ID: "set-controller-leader-election", Roles: controller, Section: secController,
		Summary: "Adds the environment variables LAMINAR_LEADER_ELECT=true and lease 15s, renew 10s, retry 2s (LAMINAR_LEADER_ELECT_LEASE_DURATION, …) when neither a --leader-elect flag nor its variable is given; only the timings not given. env, not args: env is merged by name under strategic merge and server-side apply, so the default never drifts from what the user applies, and it reaches the binary through any command line, a shell script included (names: policy `controller.settings`)."}, Fill: setControllerLeaderElection},
}

// relatedDefaults are filled by the mutating webhook into an object that routes
// to a Laminar workload.
var relatedDefaults = []RelatedDefault{
	{Meta: Meta{ID: "set-api-alb-healthcheck", Roles: api, Section: secIngressHealth,
		Summary: "An Ingress served by the AWS Load Balancer Controller (class alb, or an IngressClass of controller ingress.k8s.aws/alb) whose every backend is the api's Service gets alb.ingress.kubernetes.io/healthcheck-path (the api's liveness path, /health) and healthcheck-interval-seconds \"15\" (policy `ingress.alb.intervalSeconds`) where unset: the ALB's own check, GET /, fails on every target, and an ALB whose targets all fail routes to dead pods too. Annotations only added, never changed, so GitOps diffs see them as additive."}, ObjectKind: KindIngress, Fill: setAPIALBHealthCheck},
}

// checks are judged by the validating webhook on the final object.
var checks = []Check{
	{Meta: Meta{ID: "replicas-min", Roles: both, Section: secMinimum,
		Summary: "At least 2 replicas (policy `replicas.min`)."}, Action: ActionDeny, Judge: checkReplicasMin},
	{Meta: Meta{ID: "replicas-recommended", Roles: both, Section: secMultiReplicas,
		Summary: "Fewer than the recommended replicas: 3 for the api, 2 for the controller, as the guide runs them (policy `replicas.recommended`)."}, Action: ActionWarn, Judge: checkReplicasRecommended},
	{Meta: Meta{ID: "api-kind-deployment", Roles: api, Section: secMultiReplicas,
		Summary: "The api is stateless and belongs in a Deployment."}, Action: ActionWarn, WorkloadKinds: []string{kindStatefulSet}, Judge: checkAPIKindDeployment},
	{Meta: Meta{ID: "api-strategy-rolling", Roles: api, Section: secMultiReplicas,
		Summary: "No Recreate strategy."}, Action: ActionDeny, WorkloadKinds: []string{kindDeployment}, Judge: checkAPIStrategyRolling},
	{Meta: Meta{ID: "api-max-unavailable", Roles: api, Section: secMultiReplicas,
		Summary: "maxUnavailable must not be able to stop every replica."}, Action: ActionDeny, WorkloadKinds: []string{kindDeployment}, Judge: checkAPIMaxUnavailable},
	{Meta: Meta{ID: "api-readiness-probe", Roles: api, Section: secProbes,
		Summary: "The main container has a readiness probe."}, Action: ActionDeny, Judge: checkAPIReadinessProbe},
	{Meta: Meta{ID: "api-liveness-probe", Roles: api, Section: secProbes,
		Summary: "The main container has a liveness probe."}, Action: ActionDeny, Judge: checkAPILivenessProbe},
	{Meta: Meta{ID: "api-liveness-aggressive", Roles: api, Section: secProbes,
		Summary: "The liveness probe is far more eager than the guide's: failureThreshold 1, or no initial delay and no startup probe."}, Action: ActionWarn, Judge: checkAPILivenessAggressive},
	{Meta: Meta{ID: "api-startup-probe", Roles: api, Section: secProbes,
		Summary: "A liveness probe with no startup probe: the liveness probe alone bounds the start (delay + period × failures), and a slower start is restarted, often in a loop. A warning: a fast image needs none."}, Action: ActionWarn, Judge: checkAPIStartupProbe},
	{Meta: Meta{ID: "api-prestop-within-grace", Roles: api, Section: secShutdown,
		Summary: "The preStop delay is shorter than terminationGracePeriodSeconds."}, Action: ActionDeny, Judge: checkAPIPreStopWithinGrace},
	{Meta: Meta{ID: "api-graceful-shutdown", Roles: api, Section: secShutdown,
		Summary: "No preStop hook, and a grace period too short for one to be added (at most the policy's `preStop.seconds`): pods stop while still routed to."}, Action: ActionWarn, Judge: checkAPIGracefulShutdown},
	{Meta: Meta{ID: "api-anti-affinity", Roles: api, Section: secMultiReplicas,
		Summary: "A hostname anti-affinity term (preferred or required) selects the api's own pods."}, Action: ActionDeny, Judge: checkAPIAntiAffinity},
	{Meta: Meta{ID: "api-zone-spread", Roles: api, Section: secMultiZone,
		Summary: "A zone topology spread constraint selects the api's own pods (not required where the nodes give no spread: see cluster-zones)."}, Action: ActionDeny, Judge: checkAPIZoneSpread},
	{Meta: Meta{ID: "cluster-zones", Roles: both, Section: secZoneOutage,
		Summary: "The schedulable nodes give fewer than two zones, or some lack the zone label: no zone spread is injected or required, and a zone outage can take every replica."}, Action: ActionWarn, Judge: checkClusterZones},
	{Meta: Meta{ID: "controller-kind-statefulset", Roles: controller, Section: secController,
		Summary: "The controller is a StatefulSet, never a Deployment (RocksDB needs a per-pod volume)."}, Action: ActionDeny, Judge: checkControllerKindStatefulSet},
	{Meta: Meta{ID: "controller-leader-election", Roles: controller, Section: secController,
		Summary: "More than one replica requires leader election, read from --leader-elect, else LAMINAR_LEADER_ELECT; false is denied, in a shell script's text too. A variable from a Secret or ConfigMap is not read."}, Action: ActionDeny, Judge: checkControllerLeaderElection},
	{Meta: Meta{ID: "controller-leader-election-timing", Roles: controller, Section: secController,
		Summary: "Lease duration > renew deadline > 1.2 × retry period (client-go's rule), each read from its flag, else its variable."}, Action: ActionDeny, Judge: checkControllerLeaderElectionTiming},
	{Meta: Meta{ID: "controller-shell-command", Roles: controller, Section: secController,
		Summary: "The main container runs a shell script (`sh -c \"…\"`): the flags the rules read are only text in it, read best effort and unverified, and args after the script never reach the binary. Fix: the binary as the command with flags in args, or the settings' environment variables."}, Action: ActionWarn, Judge: checkControllerShellCommand},
	{Meta: Meta{ID: "controller-anti-affinity", Roles: controller, Section: secController,
		Summary: "A required hostname anti-affinity term selects the controller's own pods."}, Action: ActionDeny, Judge: checkControllerAntiAffinity},
	{Meta: Meta{ID: "controller-hosts", Roles: controller, Section: secController,
		Summary: "More replicas than schedulable nodes: under a required hostname anti-affinity the surplus stays Pending; without one (none is injected then) replicas share nodes."}, Action: ActionWarn, Judge: checkControllerHosts},
	{Meta: Meta{ID: "controller-rocksdb-volume", Roles: controller, Section: secFastStorage,
		Summary: "RocksDB is on a volumeClaimTemplate mounted by the main container, not emptyDir or hostPath."}, Action: ActionDeny, WorkloadKinds: []string{kindStatefulSet}, Judge: checkControllerRocksDBVolume},
	{Meta: Meta{ID: "controller-storage-class", Roles: controller, Section: secFastStorage,
		Summary: "The RocksDB claim names a fast storage class (policy `storage.fastStorageClasses`)."}, Action: ActionDeny, WorkloadKinds: []string{kindStatefulSet}, Judge: checkControllerStorageClass},
	{Meta: Meta{ID: "controller-storage-size", Roles: controller, Section: secFastStorage,
		Summary: "The RocksDB claim requests at least 100Gi (policy `storage.minSize`)."}, Action: ActionDeny, WorkloadKinds: []string{kindStatefulSet}, Judge: checkControllerStorageSize},
	{Meta: Meta{ID: "controller-checkpoint-url", Roles: controller, Section: secDRCheckpoints,
		Summary: "The checkpoint URL uses durable object storage (s3, gs, azblob), not a path or file URL."}, Action: ActionDeny, Judge: checkControllerCheckpointURL},
	{Meta: Meta{ID: "controller-artifacts-url", Roles: controller, Section: secDRCheckpoints,
		Summary: "The artifacts URL (--artifacts-url, else LAMINAR_ARTIFACTS_URL), when given, uses durable object storage like the checkpoints."}, Action: ActionDeny, Judge: checkControllerArtifactsURL},
	{Meta: Meta{ID: "controller-checkpoint-url-missing", Roles: controller, Section: secBackup,
		Summary: "No checkpoint URL is visible in --checkpoint-url or LAMINAR_CHECKPOINT_URL (names: policy `controller.settings`)."}, Action: ActionWarn, Judge: checkControllerCheckpointURLMissing},
	{Meta: Meta{ID: "controller-checkpoint-interval", Roles: controller, Section: secBackup,
		Summary: "The checkpoint interval is longer than the guide's 30s."}, Action: ActionWarn, Judge: checkControllerCheckpointInterval},

	// Exemptions: annotations that excuse one workload from named rules.
	{Meta: Meta{ID: "exemption-reason", Roles: both, Section: secOperating,
		Summary: "An `ha.laminar.io/exempt` annotation needs a non-empty `ha.laminar.io/exempt-reason`."}, Action: ActionDeny, Judge: checkExemptionReason},
	{Meta: Meta{ID: "exemption-until", Roles: both, Section: secOperating,
		Summary: "`ha.laminar.io/exempt-until`, when given, is an RFC 3339 time."}, Action: ActionDeny, Judge: checkExemptionUntil},
	{Meta: Meta{ID: "exemption-expired", Roles: both, Section: secOperating,
		Summary: "The exemption's `exempt-until` has passed; it is ignored and its rules apply."}, Action: ActionWarn, Judge: checkExemptionExpired},
	{Meta: Meta{ID: "exemption-unknown-rule", Roles: both, Section: secOperating,
		Summary: "The exemption names an ID that is not an exemptible rule (typo, or an `exemption-*` rule)."}, Action: ActionWarn, Judge: checkExemptionUnknownRule},
	{Meta: Meta{ID: "exemption-permission", Roles: both, Section: secOperating,
		Summary: "Adding or changing an exemption needs `grant` on `exemptions.ha.laminar.io` in the namespace (policy `exemptions.selfService` lifts it)."}, Action: ActionDeny, Judge: checkExemptionPermission},
	{Meta: Meta{ID: "exemption-max-duration", Roles: both, Section: secOperating,
		Summary: "An exemption added or changed ends within the policy's `exemptions.maxDuration`, when one is set."}, Action: ActionDeny, Judge: checkExemptionMaxDuration},

	// Cluster state around a Laminar workload.
	{Meta: Meta{ID: "pdb-missing", Roles: both, Section: secPDB,
		Summary: "No PodDisruptionBudget selects the workload's pods (a warning, since objects arrive in any order)."}, Action: ActionWarn, Judge: checkPDBMissing},
	{Meta: Meta{ID: "hpa-static-replicas", Roles: both, Section: secMinimum,
		Summary: "An update resets spec.replicas of a workload an autoscaler manages (the two fight)."}, Action: ActionWarn, Judge: checkHPAStaticReplicas},
}

// relatedChecks judge the disruption budgets, autoscalers, Services and
// Ingresses of a Laminar workload.
var relatedChecks = []RelatedCheck{
	{Meta: Meta{ID: "hpa-min-replicas", Roles: both, Section: secMinimum,
		Summary: "An autoscaler of a Laminar workload has minReplicas at or above the policy minimum (unset counts as 1)."}, Action: ActionDeny, ObjectKind: KindHorizontalPodAutoscaler, Judge: checkHPAMinReplicas},
	{Meta: Meta{ID: "hpa-max-replicas", Roles: both, Section: secMinimum,
		Summary: "An autoscaler's maxReplicas is at least its minReplicas and the policy minimum."}, Action: ActionDeny, ObjectKind: KindHorizontalPodAutoscaler, Judge: checkHPAMaxReplicas},
	{Meta: Meta{ID: "pdb-allows-drain", Roles: both, Section: secPDB,
		Summary: "A budget over Laminar pods lets drains proceed: no maxUnavailable 0, no minAvailable ≥ replicas or 100%; judged when the budget or the replicas change."}, Action: ActionDeny, ObjectKind: KindPodDisruptionBudget, Judge: checkPDBAllowsDrain},
	{Meta: Meta{ID: "pdb-keeps-one", Roles: both, Section: secPDB,
		Summary: "A budget over Laminar pods keeps at least one: no minAvailable 0, no maxUnavailable ≥ replicas; judged when the budget or the replicas change."}, Action: ActionDeny, ObjectKind: KindPodDisruptionBudget, Judge: checkPDBKeepsOne},
	{Meta: Meta{ID: "pdb-one-at-a-time", Roles: api, Section: secPDB,
		Summary: "A budget over the api lets more than a third of its replicas (and two or more) be evicted at once: less than the guide's budget protects (minAvailable 2 of 3, 1 of 2). The controller serves from one leader, so its guide figure, minAvailable 1, holds at any count."}, Action: ActionWarn, ObjectKind: KindPodDisruptionBudget, Judge: checkPDBOneAtATime},
	{Meta: Meta{ID: "api-service-session-affinity", Roles: api, Section: secService,
		Summary: "A Service selecting api pods has sessionAffinity None, as the guide: ClientIP pins each client to one pod, so a pod lost in a rollout, drain or zone outage breaks all its clients at once, and one NAT address loads one pod. Denied, not defaulted: the API server fills in None before admission, so only an explicit ClientIP is seen. Judged when the Service or the api is written, whichever comes first."}, Action: ActionDeny, ObjectKind: KindService, Judge: checkAPIServiceSessionAffinity},
	{Meta: Meta{ID: "api-service-type", Roles: api, Section: secService,
		Summary: "A Service selecting api pods is of type ClusterIP, as the guide, with outside traffic through the Ingress and its health checks. NodePort and LoadBalancer are only warned of, since they still spread requests over every ready pod; the API server fills in ClusterIP, so there is nothing to default. ExternalName and selector-less Services select no pods and are not judged. Judged when the Service or the api is written."}, Action: ActionWarn, ObjectKind: KindService, Judge: checkAPIServiceType},
	{Meta: Meta{ID: "api-alb-healthcheck-path", Roles: api, Section: secIngressHealth,
		Summary: "An ALB-served Ingress of the api sets a healthcheck-path that is none of the api's probe paths (/health, /ready): unless the api answers it, every target fails the check. Warned, since an image may answer a path the policy does not know."}, Action: ActionWarn, ObjectKind: KindIngress, Judge: checkAPIALBHealthCheckPath},
}

// All returns the catalog in its documented order.
func All() []Rule {
	out := make([]Rule, 0, len(defaults)+len(relatedDefaults)+len(checks)+len(relatedChecks))
	for i := range defaults {
		out = append(out, &defaults[i])
	}
	for i := range relatedDefaults {
		out = append(out, &relatedDefaults[i])
	}
	for i := range checks {
		out = append(out, &checks[i])
	}
	for i := range relatedChecks {
		out = append(out, &relatedChecks[i])
	}
	return out
}

// Defaults yields every default rule in catalog order. The engines walk the
// tables on every admission request, so nothing is copied.
func Defaults() iter.Seq[*Default] { return each(defaults) }

// RelatedDefaults yields every default of an object routing to a workload in catalog order.
func RelatedDefaults() iter.Seq[*RelatedDefault] { return each(relatedDefaults) }

// Checks yields every workload check in catalog order.
func Checks() iter.Seq[*Check] { return each(checks) }

// RelatedChecks yields every check of a governing object in catalog order.
func RelatedChecks() iter.Seq[*RelatedCheck] { return each(relatedChecks) }

func each[R any](table []R) iter.Seq[*R] {
	return func(yield func(*R) bool) {
		for i := range table {
			if !yield(&table[i]) {
				return
			}
		}
	}
}

// ByID finds a rule by its ID.
func ByID(id string) (Rule, bool) {
	for _, r := range All() {
		if r.Describe().ID == id {
			return r, true
		}
	}
	return nil, false
}
