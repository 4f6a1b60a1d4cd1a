// Package sim tests the simulated cluster of internal/devenv (Options.Cluster):
// kube-scheduler, kube-controller-manager and kwok beside the API server, six
// fake nodes over three zones and zonal volumes, with the webhook installed as
// in the e2e suite. It checks that workloads really schedule and run, that
// claims bind to volumes pinned to their pod's zone, and that a node whose
// heartbeats stop is marked NotReady and tainted, which the HA scenario tests
// build on.
//
//	make controlplane && go test -count=1 ./test/sim/
package sim
