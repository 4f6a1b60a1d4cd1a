package devenv

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// childProc is one of the simulated cluster's processes (kube-scheduler,
// kube-controller-manager, kwok).
type childProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// startChild starts path with args, its output to out. Like the webhook it gets
// its own process group, so a Ctrl-C at the terminal reaches only the parent,
// which stops it in order, and it dies with the parent even on SIGKILL.
func startChild(name, path string, args []string, out io.Writer) (*childProc, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := parentdeath.Start(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &childProc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *childProc) String() string {
	return p.name + " " + strings.Join(p.cmd.Args[1:], " ")
}

// stop ends the process with SIGTERM, SIGKILL after grace, and waits for it.
// An exit caused by the SIGTERM is no error; an earlier exit is.
func (p *childProc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return fmt.Errorf("%s had already exited: %v", p.name, p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s ignored SIGTERM for %s and was killed", p.name, grace)
	}
}
