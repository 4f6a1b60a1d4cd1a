package main

import (
	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// controller-runtime's global logger takes the first ctrl.SetLogger only; later
// calls are no-ops. serve calls it on every run, so without this the first
// test's stderr buffer would receive every later serve's controller-runtime log
// lines, written from several goroutines at once: a data race under -race.
// Each serve's own log lines (policy reloads, start-up) still go to its stderr.
func init() { ctrllog.SetLogger(logr.Discard()) }
