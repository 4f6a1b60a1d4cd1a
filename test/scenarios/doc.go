// Package scenarios watches what kube-scheduler and kube-controller-manager
// really do with Laminar's workloads, with and without the webhook, on the
// simulated clusters of internal/devenv: creation, rolling updates, node
// drains, a node failure and a zone outage on six nodes over three zones, and
// creation and a rollout on the hostile topologies (no zone labels, one zone,
// two nodes for a three-replica controller). Each scenario logs a `figures:`
// line per workload; SCENARIOS_DOC=path writes them as the table of
// docs/ha-scenarios.md (make scenarios-doc).
//
//	go test -count=1 -v ./test/scenarios/
package scenarios
