package parentdeath

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envMiddle makes this test binary the middle process of
// TestChildrenDieWithTheirParent: it starts children and waits to be killed.
const envMiddle = "PARENTDEATH_TEST_MIDDLE_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envMiddle); dir != "" {
		os.Exit(runMiddle(dir))
	}
	os.Exit(m.Run())
}

// runMiddle starts `sleep` twice — with Start, and through a Wrap script
// started the way envtest starts etcd (a plain exec.Cmd, from Do) — prints
// their pids and blocks until stdin closes, which a SIGKILL never lets happen.
func runMiddle(dir string) int {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	direct := exec.Command(sleep, "600")
	if err := Start(direct); err != nil {
		fmt.Fprintln(os.Stderr, "Start:", err)
		return 1
	}
	script, err := Wrap(dir, sleep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Wrap:", err)
		return 1
	}
	wrapped := exec.Command(script, "600") //nolint:gosec // the script Wrap just wrote
	if err := Do(wrapped.Start); err != nil {
		fmt.Fprintln(os.Stderr, "start the wrapper:", err)
		return 1
	}
	fmt.Printf("%d %d\n", direct.Process.Pid, wrapped.Process.Pid)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// A process that started children with Start and through Wrap is SIGKILLed,
// so it stops none of them itself: the kernel must.
func TestChildrenDieWithTheirParent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	middle := exec.Command(os.Args[0]) //nolint:gosec // this test binary, run again
	middle.Env = append(os.Environ(), envMiddle+"="+t.TempDir())
	stdin, err := middle.StdinPipe() // never written: the middle blocks on it
	require.NoError(t, err)
	defer stdin.Close()
	stdout, err := middle.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	middle.Stderr = &stderr
	require.NoError(t, middle.Start())
	t.Cleanup(func() { _ = middle.Process.Kill() })

	line, err := readLine(ctx, stdout)
	require.NoError(t, err, "the middle process reports its children; stderr: %s", stderr.String())
	var pids []int
	for _, f := range strings.Fields(line) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err, "line %q", line)
		pids = append(pids, pid)
	}
	require.Len(t, pids, 2, "line %q", line)
	// The wrapped one becomes sleep after two execs (sh, this binary).
	children := waitForChildren(t, ctx, middle.Process.Pid, pids, "sleep")
	t.Cleanup(func() {
		for _, c := range children {
			if c.Running() {
				_ = syscall.Kill(c.PID, syscall.SIGKILL)
			}
		}
	})

	require.NoError(t, middle.Process.Kill())
	err = middle.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal(), "the middle process died of SIGKILL")
	require.NoError(t, WaitExited(ctx, children...), "children of a SIGKILLed process")
}

// waitForChildren waits until each of pids is a child of parent named name.
func waitForChildren(t *testing.T, ctx context.Context, parent int, pids []int, name string) []Process {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		all, err := Children(parent)
		require.NoError(t, err)
		var found []Process
		for _, want := range pids {
			for _, c := range all {
				if c.PID == want && c.Name == name {
					found = append(found, c)
				}
			}
		}
		if len(found) == len(pids) {
			return found
		}
		select {
		case <-ctx.Done():
			t.Fatalf("children of %d: want pids %v named %s, have %v", parent, pids, name, all)
		case <-tick.C:
		}
	}
}

func readLine(ctx context.Context, r io.Reader) (string, error) {
	got := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		got <- l
	}()
	select {
	case l := <-got:
		if !strings.HasSuffix(l, "\n") {
			return "", fmt.Errorf("no line, only %q", l)
		}
		return strings.TrimSuffix(l, "\n"), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// startFromExitingThread runs start on a goroutine locked to its own thread,
// which ends when the goroutine returns, and waits until that thread is gone.
func startFromExitingThread(t *testing.T, ctx context.Context, start func() error) {
	t.Helper()
	done := make(chan startedOn, 1)
	go func() {
		runtime.LockOSThread()
		if syscall.Gettid() != os.Getpid() {
			// Never unlocked: the runtime ends this thread when the goroutine returns.
			done <- startedOn{syscall.Gettid(), start()}
			return
		}
		// The main thread, which Go never ends. Holding it locked here sends the
		// goroutine below to another thread.
		inner := make(chan startedOn, 1)
		go func() {
			runtime.LockOSThread()
			inner <- startedOn{syscall.Gettid(), start()}
		}()
		done <- <-inner
		runtime.UnlockOSThread()
	}()
	s := <-done
	require.NoError(t, s.err)
	task := fmt.Sprintf("/proc/self/task/%d", s.tid)
	require.Eventually(t, func() bool {
		_, err := os.Stat(task)
		return errors.Is(err, os.ErrNotExist)
	}, time.Until(deadline(ctx)), 5*time.Millisecond, "thread %d never ended", s.tid)
}

type startedOn struct {
	tid int
	err error
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// The Go gotcha this package exists for: Pdeathsig alone ties the child to the
// thread that forked it, and a thread can end long before the process.
func TestPdeathsigAloneDiesWithTheForkingThread(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.Command("sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	startFromExitingThread(t, ctx, cmd.Start)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		t.Fatal("the child outlived the thread that forked it: the kernel did not behave as this package assumes")
	}
}

// Start forks on its own long-lived thread, so the caller's thread ending does
// not kill the child: it still echoes after that thread is gone.
func TestStartOutlivesTheCallingThread(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cat := exec.Command("cat")
	in, err := cat.StdinPipe()
	require.NoError(t, err)
	out, err := cat.StdoutPipe()
	require.NoError(t, err)
	startFromExitingThread(t, ctx, func() error { return Start(cat) })
	t.Cleanup(func() { _ = cat.Process.Kill(); _ = cat.Wait() })

	// The kernel sends the parent-death signal before the thread leaves
	// /proc, so a killed cat could not answer this.
	_, err = io.WriteString(in, "still here\n")
	require.NoError(t, err)
	line, err := readLine(ctx, out)
	require.NoError(t, err, "cat died with the thread that called Start")
	assert.Equal(t, "still here", line)
	assert.Equal(t, Signal, cat.SysProcAttr.Pdeathsig)
}

// Start keeps the rest of the caller's SysProcAttr.
func TestStartKeepsSysProcAttr(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, Start(cmd))
	require.NoError(t, cmd.Wait())
	assert.True(t, cmd.SysProcAttr.Setpgid)
	assert.Equal(t, Signal, cmd.SysProcAttr.Pdeathsig)
}

// A wrapped binary gets its arguments as given, word boundaries included, and
// runs in the wrapper's place (the same pid, no shell left in between).
func TestWrapRunsTheBinaryWithItsArguments(t *testing.T) {
	printf, err := exec.LookPath("printf")
	require.NoError(t, err)
	script, err := Wrap(t.TempDir(), printf)
	require.NoError(t, err)
	var out strings.Builder
	cmd := exec.Command(script, "%s|", "two words", "it's", "")
	cmd.Stdout = &out
	require.NoError(t, Do(cmd.Run))
	assert.Equal(t, "two words|it's||", out.String())
}

func TestWrapRejectsWhatItCannotRun(t *testing.T) {
	dir := t.TempDir()
	for _, bin := range []string{"", dir + "/missing", dir} {
		_, err := Wrap(t.TempDir(), bin)
		assert.Error(t, err, "%q", bin)
	}
}

// A wrapper whose parent is no longer the process that wrapped it (that one
// died before the signal was set) starts nothing.
func TestWrappedStartRefusesAnotherParent(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$") //nolint:gosec // this test binary, run again
	cmd.Env = append(os.Environ(), envExec+"=/bin/true", envParent+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 125, ee.ExitCode())
	assert.Contains(t, stderr.String(), "is no longer its parent")
}

func TestDoReturnsTheErrorAndRaisesThePanic(t *testing.T) {
	want := errors.New("boom")
	assert.Equal(t, want, Do(func() error { return want }))
	assert.PanicsWithValue(t, "oops", func() { _ = Do(func() error { panic("oops") }) })
	assert.NoError(t, Do(func() error { return nil }), "the forking thread survives a panic")
}
