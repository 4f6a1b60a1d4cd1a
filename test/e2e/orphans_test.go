package e2e

// Not parallel: it starts a second control plane, which the 2-core budget of
// the parallel tests should not have to share.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// envOrphanProbe makes this test binary start its environment, report the
// processes it started and wait to be killed, instead of running the tests.
const envOrphanProbe = "E2E_ORPHAN_PROBE"

// orphanProbeMarker starts the line on which the probe reports its children.
const orphanProbeMarker = "e2e-orphan-probe children:"

// reportChildrenAndWait is the probe's side: it prints its child processes
// (etcd, kube-apiserver, the webhook) as "name=pid" and blocks until its stdin
// closes, which a SIGKILL never lets it see.
func reportChildrenAndWait() int {
	children, err := parentdeath.Children(os.Getpid())
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: orphan probe:", err)
		return 1
	}
	var fields []string
	for _, c := range children {
		fields = append(fields, c.Name+"="+strconv.Itoa(c.PID))
	}
	fmt.Println(orphanProbeMarker, strings.Join(fields, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// A test run that is SIGKILLed — a CI timeout, an OOM kill, kill -9 — runs no
// cleanup, yet leaves no etcd, kube-apiserver or webhook behind: each dies with
// the test process (internal/parentdeath). This starts this test binary as a
// child that brings up the environment the suite uses, kills it, and waits for
// the processes it reported to be gone.
func TestNothingOutlivesAKilledTestProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	probe := exec.Command(os.Args[0], "-test.run=^$") //nolint:gosec // this test binary, run again
	probe.Env = append(os.Environ(),
		envOrphanProbe+"=1",
		"E2E_WEBHOOK_BINARY="+env.WebhookBinary, // no second build
		// The probe never cleans up, so its files (devenv's work dir, envtest's
		// etcd data and certificates) go where the test removes them.
		"TMPDIR="+t.TempDir(),
	)
	stdin, err := probe.StdinPipe() // never written: the probe blocks on it
	require.NoError(t, err)
	defer stdin.Close()
	stdout, err := probe.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	probe.Stderr = &stderr
	require.NoError(t, parentdeath.Start(probe))
	t.Cleanup(func() { _ = probe.Process.Kill() })

	reported, err := readProbeReport(ctx, stdout)
	require.NoError(t, err, "the probe starts its environment and reports its children; stderr:\n%s", stderr.String())
	t.Logf("the probe (pid %d) runs %v", probe.Process.Pid, reported)
	children, err := parentdeath.Children(probe.Process.Pid)
	require.NoError(t, err)
	var watched []parentdeath.Process
	for _, name := range []string{"etcd", "kube-apiserver", comm(filepath.Base(env.WebhookBinary))} {
		pid, ok := reported[name]
		require.True(t, ok, "the probe runs no %s: %v", name, reported)
		p, ok := findProcess(children, pid)
		require.True(t, ok, "%s (pid %d) is not a child of the probe (pid %d)", name, pid, probe.Process.Pid)
		watched = append(watched, p)
	}
	t.Cleanup(func() {
		for _, p := range watched {
			if p.Running() {
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
	})

	require.NoError(t, probe.Process.Signal(syscall.SIGKILL))
	_ = probe.Wait()
	require.NoError(t, parentdeath.WaitExited(ctx, watched...), "processes of a SIGKILLed test binary")
}

// readProbeReport reads the probe's stdout up to its report line and returns
// the processes it names, by name.
func readProbeReport(ctx context.Context, r io.Reader) (map[string]int, error) {
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), orphanProbeMarker); ok {
				line <- l
				return
			}
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			return nil, fmt.Errorf("the probe ended without a report")
		}
		out := map[string]int{}
		for _, f := range strings.Fields(l) {
			name, pid, _ := strings.Cut(f, "=")
			n, err := strconv.Atoi(pid)
			if err != nil {
				return nil, fmt.Errorf("report %q: %w", l, err)
			}
			out[name] = n
		}
		return out, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no report from the probe: %w", ctx.Err())
	}
}

func findProcess(ps []parentdeath.Process, pid int) (parentdeath.Process, bool) {
	for _, p := range ps {
		if p.PID == pid {
			return p, true
		}
	}
	return parentdeath.Process{}, false
}

// comm is how /proc names a process running the binary called name: cut to
// 15 bytes.
func comm(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}
