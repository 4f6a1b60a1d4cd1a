package ruledocs

// GuideItem is one line of the Laminar HA guide and what judges it: rules, or
// a reason it is not judged.
type GuideItem struct {
	Section string
	// Item is the guide's value or sentence, as it reads there.
	Item  string
	Rules []string
	// NotJudged says why no rule judges the item; empty when Rules do.
	NotJudged string
}

// Guide walks the HA guide section by section. TestGuideItemsNameRealRules
// holds every ID here to the catalog and every rule to a line of the guide.
var Guide = []GuideItem{
	{Section: "Overview", Item: "Node failures - Pods automatically reschedule",
		Rules: []string{"replicas-min", "set-api-anti-affinity", "api-anti-affinity", "set-controller-anti-affinity", "controller-anti-affinity", "controller-hosts"}},
	{Section: "Overview", Item: "Zone outages - Multi-zone deployment",
		Rules: []string{"set-api-zone-spread", "api-zone-spread", "set-controller-zone-spread", "cluster-zones"}},
	{Section: "Overview", Item: "Component failures - Redundant replicas",
		Rules: []string{"replicas-min", "replicas-recommended", "hpa-min-replicas", "hpa-max-replicas", "hpa-static-replicas"}},
	{Section: "Overview", Item: "Rolling updates - Zero-downtime deployments",
		Rules: []string{"set-api-strategy", "api-strategy-rolling", "api-max-unavailable", "api-kind-deployment"}},

	{Section: "Minimum HA Configuration", Item: "api.replicas: 2", Rules: []string{"replicas-min"}},
	{Section: "Minimum HA Configuration", Item: "api.resources.requests: cpu 500m, memory 512Mi", Rules: []string{"set-api-requests"}},
	{Section: "Minimum HA Configuration", Item: "api.podDisruptionBudget: enabled, minAvailable 1",
		Rules: []string{"pdb-missing", "pdb-keeps-one", "pdb-allows-drain"}},
	{Section: "Minimum HA Configuration", Item: "controller.replicas: 2", Rules: []string{"replicas-min", "replicas-recommended"}},
	{Section: "Minimum HA Configuration", Item: "controller.leaderElection.enabled: true",
		Rules: []string{"set-controller-leader-election", "controller-leader-election", "controller-shell-command"}},
	{Section: "Minimum HA Configuration", Item: "controller.podDisruptionBudget: enabled, minAvailable 1",
		Rules: []string{"pdb-missing", "pdb-keeps-one", "pdb-allows-drain"}},
	{Section: "Minimum HA Configuration", Item: "controller.persistence: size 100Gi, storageClass gp3",
		Rules: []string{"controller-storage-size", "controller-storage-class"}},

	{Section: "API Server HA › Multiple Replicas", Item: "api.replicas: 3", Rules: []string{"replicas-recommended"}},
	{Section: "API Server HA › Multiple Replicas", Item: "strategy: RollingUpdate, maxUnavailable 0, maxSurge 1",
		Rules: []string{"set-api-strategy", "api-strategy-rolling", "api-max-unavailable"}},
	{Section: "API Server HA › Multiple Replicas", Item: "podDisruptionBudget: minAvailable 2", Rules: []string{"pdb-one-at-a-time"}},
	{Section: "API Server HA › Multiple Replicas", Item: "preferred pod anti-affinity, weight 100, on kubernetes.io/hostname",
		Rules: []string{"set-api-anti-affinity", "api-anti-affinity"}},
	{Section: "API Server HA › Multi-Zone Distribution", Item: "topologySpreadConstraints: zone, maxSkew 1, DoNotSchedule",
		Rules: []string{"set-api-zone-spread", "api-zone-spread", "cluster-zones"}},

	{Section: "Controller HA", Item: "one active instance by leader election; replicas: 2",
		Rules: []string{"controller-kind-statefulset", "controller-leader-election", "replicas-min", "replicas-recommended"}},
	{Section: "Controller HA", Item: "leaderElection: leaseDuration 15s, renewDeadline 10s, retryPeriod 2s",
		Rules: []string{"set-controller-leader-election", "controller-leader-election-timing"}},
	{Section: "Controller HA", Item: "podDisruptionBudget: minAvailable 1", Rules: []string{"pdb-keeps-one", "pdb-allows-drain"}},
	{Section: "Controller HA", Item: "required pod anti-affinity on kubernetes.io/hostname",
		Rules: []string{"set-controller-anti-affinity", "controller-anti-affinity", "controller-hosts"}},
	{Section: "Controller HA", Item: "persistence: enabled (RocksDB), size 100Gi, storageClass gp3",
		Rules: []string{"controller-rocksdb-volume", "controller-storage-size", "controller-storage-class"}},

	{Section: "RocksDB Storage HA › Fast Storage", Item: "storageClass gp3 (AWS), premium-rwo (GCP), managed-csi-premium (Azure); size 100Gi",
		Rules: []string{"controller-storage-class", "controller-storage-size"}},
	{Section: "RocksDB Storage HA › Backup to Object Storage", Item: `storage.checkpoints.url: "s3://my-bucket/laminar/checkpoints"`,
		Rules: []string{"controller-checkpoint-url", "controller-checkpoint-url-missing"}},
	{Section: "RocksDB Storage HA › Backup to Object Storage", Item: `storage.checkpoints.interval: "30s"`,
		Rules: []string{"controller-checkpoint-interval"}},

	{Section: "Load Balancing › Kubernetes Service", Item: "api.service.type: ClusterIP",
		Rules: []string{"api-service-type"}},
	{Section: "Load Balancing › Kubernetes Service", Item: "api.service.sessionAffinity: None",
		Rules: []string{"api-service-session-affinity"}},
	{Section: "Load Balancing › Ingress Health Checks", Item: `alb.ingress.kubernetes.io/healthcheck-path: /health, healthcheck-interval-seconds: "15"`,
		Rules: []string{"set-api-alb-healthcheck", "api-alb-healthcheck-path"}},
	{Section: "Load Balancing › Ingress Health Checks", Item: `nginx.ingress.kubernetes.io/upstream-hash-by: "$remote_addr"`,
		NotJudged: "neither filled in nor judged: it is affinity at the ingress (ingress-nginx hashes each client address onto one api pod, " +
			"bypassing the Service and its sessionAffinity); behind a NAT gateway or a load balancer that hides client addresses every request " +
			"hashes alike and one pod takes the whole load, so a default would be unsafe, and the guide gives it, so it is the user's choice where the controller sees real addresses"},

	{Section: "Health Probes", Item: "livenessProbe: GET /health:8000, delay 30, period 10, failures 3",
		Rules: []string{"set-api-liveness-probe", "api-liveness-probe", "api-liveness-aggressive"}},
	{Section: "Health Probes", Item: "readinessProbe: GET /ready:8000, delay 5, period 5, failures 3",
		Rules: []string{"set-api-readiness-probe", "api-readiness-probe"}},
	{Section: "Health Probes", Item: "startupProbe: GET /health:8000, delay 10, period 10, failures 30",
		Rules: []string{"set-api-startup-probe", "api-startup-probe"}},

	{Section: "Pod Disruption Budgets", Item: "api: minAvailable 1, or maxUnavailable 1",
		Rules: []string{"pdb-missing", "pdb-keeps-one", "pdb-allows-drain", "pdb-one-at-a-time"}},
	{Section: "Pod Disruption Budgets", Item: "controller: minAvailable 1", Rules: []string{"pdb-missing", "pdb-keeps-one", "pdb-allows-drain"}},

	{Section: "Graceful Shutdown", Item: "terminationGracePeriodSeconds: 60",
		Rules: []string{"set-api-grace-period", "api-prestop-within-grace", "api-graceful-shutdown"}},
	{Section: "Graceful Shutdown", Item: `preStop: exec /bin/sh -c "sleep 10"`,
		Rules: []string{"set-api-prestop", "api-prestop-within-grace", "api-graceful-shutdown"}},

	{Section: "Disaster Recovery › Object Storage for Checkpoints", Item: `storage.checkpoints.url: "s3://my-bucket/checkpoints"`,
		Rules: []string{"controller-checkpoint-url"}},
	{Section: "Disaster Recovery › Object Storage for Checkpoints", Item: `storage.artifacts.url: "s3://my-bucket/artifacts"`,
		Rules: []string{"controller-artifacts-url"}},
	{Section: "Disaster Recovery › Cross-Region Replication", Item: "cross-region replication of the S3/GCS buckets",
		NotJudged: "replication is a setting of the bucket, in the cloud provider's API; no Kubernetes object shows it"},

	{Section: "Monitoring HA Status", Item: "kubectl get pods -o wide / pdb / nodes by zone / endpoints / pvc",
		NotJudged: "commands an operator runs on a running install, not a spec to admit; the simulated-cluster suites (test/sim, test/scenarios) watch the same things after the defaults are applied"},

	{Section: "HA Checklist", Item: "Multiple API replicas (minimum 2)", Rules: []string{"replicas-min"}},
	{Section: "HA Checklist", Item: "Multiple controller replicas with leader election",
		Rules: []string{"replicas-min", "controller-leader-election"}},
	{Section: "HA Checklist", Item: "Pod anti-affinity configured", Rules: []string{"api-anti-affinity", "controller-anti-affinity"}},
	{Section: "HA Checklist", Item: "Multi-zone distribution enabled", Rules: []string{"api-zone-spread", "cluster-zones"}},
	{Section: "HA Checklist", Item: "Pod disruption budgets configured", Rules: []string{"pdb-missing"}},
	{Section: "HA Checklist", Item: "Fast SSD storage for RocksDB", Rules: []string{"controller-storage-class"}},
	{Section: "HA Checklist", Item: "Checkpoints stored in durable object storage", Rules: []string{"controller-checkpoint-url"}},
	{Section: "HA Checklist", Item: "Health probes configured", Rules: []string{"api-readiness-probe", "api-liveness-probe", "api-startup-probe"}},
	{Section: "HA Checklist", Item: "Graceful shutdown configured", Rules: []string{"api-graceful-shutdown", "api-prestop-within-grace"}},
	{Section: "HA Checklist", Item: "Monitoring and alerting enabled",
		NotJudged: "nothing in a Laminar workload says whether something scrapes or alerts on it; the webhook's own metrics and alert examples are in the README"},
}
