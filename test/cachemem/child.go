package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/labels"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// resultPrefix starts the one line a child writes to stdout.
const resultPrefix = "result: "

// Result is one case as its child process measured it.
type Result struct {
	Case string
	// IdleRSS is the child's RSS before the cache starts: a Go process with
	// client-go and controller-runtime loaded, and nothing cached.
	IdleRSS uint64
	// RSS and PeakRSS (VmRSS, VmHWM) are read after the sync and a GC that
	// returns freed memory to the system; PeakRSS includes what the sync
	// needed for a moment (decoding, the informers' queues).
	RSS, PeakRSS uint64
	// HeapAlloc is the live Go heap after the GC; HeapInuse counts the spans
	// holding it.
	HeapAlloc, HeapInuse uint64
	Sync                 time.Duration
	// Cached is how many Deployments the cache lists in the namespace, and
	// AnnotationBytes what the annotations of one of them take there.
	Cached          int
	AnnotationBytes int
}

// child starts pkg/cluster's Cache against the parent's API server, as
// cmd/webhook does, and measures itself once it has synced.
func child(ctx context.Context, c Config, stdout io.Writer) error {
	ctrllog.SetLogger(logr.Discard())
	cfg, ok, err := cluster.Config(c.kubeconfig)
	if err != nil || !ok {
		return fmt.Errorf("kubeconfig %s: %v", c.kubeconfig, err)
	}
	opts := cluster.Options{}
	if c.child == caseBefore {
		opts.Transform = beforeTransform()
	}
	cache, err := cluster.NewWithOptions(cfg, opts)
	if err != nil {
		return err
	}
	r := Result{Case: c.child}
	settle()
	if r.IdleRSS, _, err = selfRSS(); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- cache.Start(ctx) }()
	// The cache offers readiness only as a check; a millisecond's poll is far
	// below the sync times measured.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for cache.SyncedChecker(nil) != nil {
		select {
		case err := <-errc:
			return fmt.Errorf("cache stopped before it synced: %v", err)
		case <-tick.C:
		}
	}
	r.Sync = time.Since(start)

	settle()
	if r.RSS, r.PeakRSS, err = selfRSS(); err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapAlloc, r.HeapInuse = ms.HeapAlloc, ms.HeapInuse

	// Only now, as listing copies every object: what the cache holds.
	ws := cache.WorkloadsSelected(ctx, c.namespace, labels.Everything())
	r.Cached = len(ws)
	if len(ws) > 0 {
		for k, v := range ws[0].Meta.Annotations {
			r.AnnotationBytes += len(k) + len(v)
		}
	}
	if _, ok := cache.Workload(ctx, workload.KindDeployment, c.namespace, deploymentName(0)); !ok {
		return fmt.Errorf("%s/%s is not in the cache", c.namespace, deploymentName(0))
	}
	cancel()
	if err := <-errc; err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s%s\n", resultPrefix, b)
	return err
}

// settle collects garbage and returns freed pages, so that RSS counts what is
// live rather than what the collector has not handed back yet.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// selfRSS reads VmRSS and VmHWM of this process.
func selfRSS() (rss, peak uint64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		fields := strings.Fields(val)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("/proc/self/status: no VmRSS or VmHWM")
	}
	return rss, peak, s.Err()
}
