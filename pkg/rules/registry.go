package rules

import "github.com/laminar/ha-webhook/pkg/workload"

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
	secNotInTheGuide = "— (how this webhook is installed)"
	secOperating     = "— (exemptions)"
	secPDB           = "Pod Disruption Budgets"
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

// registry is the one table of rules. IDs are stable: never rename one, retire it.
var registry = []Rule{
	// Defaults: filled by the mutating webhook when the user left the field unset.
	{ID: "set-api-strategy", Roles: api, Kinds: []string{kindDeployment}, Action: ActionDefault, Section: secMultiReplicas,
		Summary: "RollingUpdate with maxUnavailable 0 and maxSurge 1.", Default: setAPIStrategy},
	{ID: "set-api-anti-affinity", Roles: api, Action: ActionDefault, Section: secMultiReplicas,
		Summary: "Preferred pod anti-affinity on kubernetes.io/hostname, weight 100, selecting the pods' own label.", Default: setAPIAntiAffinity},
	{ID: "set-api-zone-spread", Roles: api, Action: ActionDefault, Section: secMultiZone,
		Summary: "Topology spread over topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule.", Default: setAPIZoneSpread},
	{ID: "set-api-liveness-probe", Roles: api, Action: ActionDefault, Section: secProbes,
		Summary: "Liveness probe GET /health:8000, delay 30s, period 10s, 3 failures.", Default: setAPILivenessProbe},
	{ID: "set-api-readiness-probe", Roles: api, Action: ActionDefault, Section: secProbes,
		Summary: "Readiness probe GET /ready:8000, delay 5s, period 5s, 3 failures.", Default: setAPIReadinessProbe},
	{ID: "set-api-startup-probe", Roles: api, Action: ActionDefault, Section: secProbes,
		Summary: "Startup probe GET /health:8000, delay 10s, period 10s, 30 failures.", Default: setAPIStartupProbe},
	{ID: "set-api-requests", Roles: api, Action: ActionDefault, Section: secMinimum,
		Summary: "Requests cpu 500m and memory 512Mi where neither request nor limit is set.", Default: setAPIRequests},
	{ID: "set-api-grace-period", Roles: api, Action: ActionDefault, Section: secShutdown,
		Summary: "terminationGracePeriodSeconds 60.", Default: setAPIGracePeriod},
	{ID: "set-api-prestop", Roles: api, Action: ActionDefault, Section: secShutdown,
		Summary: "preStop delay of 10s: exec `/bin/sh -c \"sleep 10\"`, or the native sleep action by policy.", Default: setAPIPreStop},
	{ID: "set-controller-anti-affinity", Roles: controller, Action: ActionDefault, Section: secController,
		Summary: "Required pod anti-affinity on kubernetes.io/hostname, selecting the pods' own label.", Default: setControllerAntiAffinity},
	{ID: "set-controller-leader-election", Roles: controller, Action: ActionDefault, Section: secController,
		Summary: "Adds --leader-elect=true with lease 15s, renew 10s, retry 2s when no --leader-elect flag is given.", Default: setControllerLeaderElection},

	// Checks: judged by the validating webhook on the final object.
	{ID: "replicas-min", Roles: both, Action: ActionDeny, Section: secMinimum,
		Summary: "At least 2 replicas (policy `replicas.min`).", Check: checkReplicasMin},
	{ID: "replicas-recommended", Roles: both, Action: ActionWarn, Section: secMultiReplicas,
		Summary: "Fewer than the recommended 3 replicas (policy `replicas.recommended`).", Check: checkReplicasRecommended},
	{ID: "labels-selectable", Roles: both, Action: ActionWarn, Section: secNotInTheGuide,
		Summary: "The object's own labels must carry the Laminar label, or the cluster webhook never sees it.", Check: checkLabelsSelectable},
	{ID: "api-kind-deployment", Roles: api, Kinds: []string{kindStatefulSet}, Action: ActionWarn, Section: secMultiReplicas,
		Summary: "The api is stateless and belongs in a Deployment.", Check: checkAPIKindDeployment},
	{ID: "api-strategy-rolling", Roles: api, Kinds: []string{kindDeployment}, Action: ActionDeny, Section: secMultiReplicas,
		Summary: "No Recreate strategy.", Check: checkAPIStrategyRolling},
	{ID: "api-max-unavailable", Roles: api, Kinds: []string{kindDeployment}, Action: ActionDeny, Section: secMultiReplicas,
		Summary: "maxUnavailable must not be able to stop every replica.", Check: checkAPIMaxUnavailable},
	{ID: "api-readiness-probe", Roles: api, Action: ActionDeny, Section: secProbes,
		Summary: "The main container has a readiness probe.", Check: checkAPIReadinessProbe},
	{ID: "api-liveness-probe", Roles: api, Action: ActionDeny, Section: secProbes,
		Summary: "The main container has a liveness probe.", Check: checkAPILivenessProbe},
	{ID: "api-prestop-within-grace", Roles: api, Action: ActionDeny, Section: secShutdown,
		Summary: "The preStop delay is shorter than terminationGracePeriodSeconds.", Check: checkAPIPreStopWithinGrace},
	{ID: "api-anti-affinity", Roles: api, Action: ActionDeny, Section: secMultiReplicas,
		Summary: "A hostname anti-affinity term (preferred or required) selects the api's own pods.", Check: checkAPIAntiAffinity},
	{ID: "api-zone-spread", Roles: api, Action: ActionDeny, Section: secMultiZone,
		Summary: "A zone topology spread constraint selects the api's own pods.", Check: checkAPIZoneSpread},
	{ID: "controller-kind-statefulset", Roles: controller, Action: ActionDeny, Section: secController,
		Summary: "The controller is a StatefulSet, never a Deployment (RocksDB needs a per-pod volume).", Check: checkControllerKindStatefulSet},
	{ID: "controller-leader-election", Roles: controller, Action: ActionDeny, Section: secController,
		Summary: "More than one replica requires leader election; `--leader-elect=false` is denied.", Check: checkControllerLeaderElection},
	{ID: "controller-leader-election-timing", Roles: controller, Action: ActionDeny, Section: secController,
		Summary: "Lease duration > renew deadline > 1.2 × retry period (client-go's rule).", Check: checkControllerLeaderElectionTiming},
	{ID: "controller-anti-affinity", Roles: controller, Action: ActionDeny, Section: secController,
		Summary: "A required hostname anti-affinity term selects the controller's own pods.", Check: checkControllerAntiAffinity},
	{ID: "controller-rocksdb-volume", Roles: controller, Kinds: []string{kindStatefulSet}, Action: ActionDeny, Section: secFastStorage,
		Summary: "RocksDB is on a volumeClaimTemplate mounted by the main container, not emptyDir or hostPath.", Check: checkControllerRocksDBVolume},
	{ID: "controller-storage-class", Roles: controller, Kinds: []string{kindStatefulSet}, Action: ActionDeny, Section: secFastStorage,
		Summary: "The RocksDB claim names a fast storage class (policy `storage.fastStorageClasses`).", Check: checkControllerStorageClass},
	{ID: "controller-storage-size", Roles: controller, Kinds: []string{kindStatefulSet}, Action: ActionDeny, Section: secFastStorage,
		Summary: "The RocksDB claim requests at least 100Gi (policy `storage.minSize`).", Check: checkControllerStorageSize},
	{ID: "controller-checkpoint-url", Roles: controller, Action: ActionDeny, Section: secDRCheckpoints,
		Summary: "The checkpoint URL uses durable object storage (s3, gs, azblob), not a path or file URL.", Check: checkControllerCheckpointURL},
	{ID: "controller-checkpoint-url-missing", Roles: controller, Action: ActionWarn, Section: secBackup,
		Summary: "No checkpoint URL is visible in --checkpoint-url or LAMINAR_CHECKPOINT_URL.", Check: checkControllerCheckpointURLMissing},
	{ID: "controller-checkpoint-interval", Roles: controller, Action: ActionWarn, Section: secBackup,
		Summary: "The checkpoint interval is longer than the guide's 30s.", Check: checkControllerCheckpointInterval},

	// Exemptions: annotations that excuse one workload from named rules.
	{ID: "exemption-reason", Roles: both, Action: ActionDeny, Section: secOperating,
		Summary: "An `ha.laminar.io/exempt` annotation needs a non-empty `ha.laminar.io/exempt-reason`.", Check: checkExemptionReason},
	{ID: "exemption-until", Roles: both, Action: ActionDeny, Section: secOperating,
		Summary: "`ha.laminar.io/exempt-until`, when given, is an RFC 3339 time.", Check: checkExemptionUntil},
	{ID: "exemption-expired", Roles: both, Action: ActionWarn, Section: secOperating,
		Summary: "The exemption's `exempt-until` has passed; it is ignored and its rules apply.", Check: checkExemptionExpired},
	{ID: "exemption-unknown-rule", Roles: both, Action: ActionWarn, Section: secOperating,
		Summary: "The exemption names an ID that is not an exemptible rule (typo, or an `exemption-*` rule).", Check: checkExemptionUnknownRule},

	// Cluster state: disruption budgets and autoscalers around a Laminar workload.
	{ID: "pdb-missing", Roles: both, Action: ActionWarn, Section: secPDB,
		Summary: "No PodDisruptionBudget selects the workload's pods (a warning, since objects arrive in any order).", ClusterCheck: checkPDBMissing},
	{ID: "hpa-static-replicas", Roles: both, Action: ActionWarn, Section: secMinimum,
		Summary: "An update resets spec.replicas of a workload an autoscaler manages (the two fight).", ClusterCheck: checkHPAStaticReplicas},
	{ID: "hpa-min-replicas", Roles: both, Kinds: []string{KindHorizontalPodAutoscaler}, Action: ActionDeny, Section: secMinimum,
		Summary: "An autoscaler of a Laminar workload has minReplicas at or above the policy minimum (unset counts as 1).", Related: checkHPAMinReplicas},
	{ID: "hpa-max-replicas", Roles: both, Kinds: []string{KindHorizontalPodAutoscaler}, Action: ActionDeny, Section: secMinimum,
		Summary: "An autoscaler's maxReplicas is at least its minReplicas and the policy minimum.", Related: checkHPAMaxReplicas},
	{ID: "pdb-allows-drain", Roles: both, Kinds: []string{KindPodDisruptionBudget}, Action: ActionDeny, Section: secPDB,
		Summary: "A budget over Laminar pods lets drains proceed: no maxUnavailable 0, no minAvailable ≥ replicas or 100%.", Related: checkPDBAllowsDrain},
	{ID: "pdb-keeps-one", Roles: both, Kinds: []string{KindPodDisruptionBudget}, Action: ActionDeny, Section: secPDB,
		Summary: "A budget over Laminar pods keeps at least one: no minAvailable 0, no maxUnavailable ≥ replicas.", Related: checkPDBKeepsOne},
}
