// Package reliability holds the tests that run the real laminar-ha-webhook binary
// as a subprocess, over real TLS, and measure how it behaves when things go
// wrong: malformed and hostile requests, serving-certificate rotation under load
// (the kubelet's atomic-writer way), and SIGTERM under load.
//
// It needs no control plane. The short variants run in `make test`; the full
// 30-second rotation run is opt-in:
//
//	RELIABILITY_FULL=1 go test -count=1 -v -run TestCertRotationUnderLoad ./test/reliability
//
// Every test logs one "figures:" line (visible with -v); docs/reliability.md
// records the last ones.
package reliability
