// Package parentdeath makes the processes a test or `make run` starts die with
// it, even when it is SIGKILLed and has no chance to stop them: an etcd, a
// kube-apiserver or a webhook left running holds its ports and data directory
// and turns the next run red.
//
// The mechanism is Linux's parent-death signal (prctl PR_SET_PDEATHSIG): the
// kernel sends the child SIGKILL when its parent dies. It has a catch that
// matters in Go: "parent" is the OS thread that forked the child, not the
// process, so a child forked by a thread that later exits is killed while the
// process lives on (the Go runtime ends a thread when a goroutine locked to it
// returns). Start and Do therefore fork on one thread that never exits.
//
// Start covers an exec.Cmd we build ourselves. For a starter that builds its
// own (envtest starts etcd and kube-apiserver with a SysProcAttr of its own),
// Wrap writes a small script to start instead of the binary; see wrap.go.
package parentdeath

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Signal is what a child gets when the process that started it dies.
const Signal = syscall.SIGKILL

// Start starts cmd, like cmd.Start, so that it is killed when this process dies.
// The rest of cmd.SysProcAttr (a process group, say) is kept.
func Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = Signal
	return Do(cmd.Start)
}

// Do runs f on the thread that forks for this package, and returns its error.
// A process that f starts directly has that thread as its parent, which lives
// as long as this process, so a parent-death signal set on it (by Start, or by a
// Wrap script) fires exactly when this process dies. Calls run one at a time; a
// panic in f is raised again in the caller.
func Do(f func() error) error {
	startForker.Do(func() { go forker() })
	c := call{f: f, done: make(chan result, 1)}
	calls <- c
	r := <-c.done
	if r.panicked {
		panic(r.panicValue)
	}
	return r.err
}

var (
	startForker sync.Once
	calls       = make(chan call)
)

type call struct {
	f    func() error
	done chan result
}

type result struct {
	err        error
	panicked   bool
	panicValue any
}

// forker runs every Do call on one OS thread. It never unlocks the thread and
// never returns, so the thread ends only with the process.
func forker() {
	runtime.LockOSThread()
	for c := range calls {
		c.done <- run(c.f)
	}
}

func run(f func() error) (r result) {
	defer func() {
		if v := recover(); v != nil {
			r = result{panicked: true, panicValue: v}
		}
	}()
	return result{err: f()}
}
