package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// build compiles a main package of the repository into dir, as `make build` does.
func build(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// withoutCluster is the environment minus everything that would give a webhook
// cluster access: it must run on the policy's defaults alone.
func withoutCluster(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Process is a webhook server started by the load command.
type Process struct {
	Name        string
	cmd         *exec.Cmd
	done        chan struct{}
	err         error
	Port        int
	HealthPort  int
	MetricsPort int
	LogPath     string
	log         *os.File
}

// startServer runs binary with the serve flags both webhooks take, on free
// loopback ports, and waits for /readyz.
func startServer(ctx context.Context, name, binary string, args, env []string, certDir, logPath string) (*Process, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	all := append(append([]string(nil), args...),
		"--host", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]),
		"--cert-dir", certDir,
		"--health-addr", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--metrics-addr", "127.0.0.1:"+strconv.Itoa(ports[2]),
	)
	cmd := exec.Command(binary, all...)
	cmd.Env = append(withoutCluster(os.Environ()), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Never outlive the load command, and stay out of its terminal's Ctrl-C.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := parentdeath.Start(cmd); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{}), Port: ports[0], HealthPort: ports[1], MetricsPort: ports[2], LogPath: logPath, log: logFile}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx, 60*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", p.HealthPort)
	switch err := devenv.PollReady(ctx, url, p.done); {
	case errors.Is(err, devenv.ErrProcessExited):
		return fmt.Errorf("%s exited before it was ready: %v\n%s", p.Name, p.err, p.LogTail())
	case err != nil:
		return fmt.Errorf("%s not ready at %s: %w\n%s", p.Name, url, err, p.LogTail())
	}
	return nil
}

// PID is the server process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process: SIGTERM, SIGKILL after 15s.
func (p *Process) Stop() {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	_ = p.log.Close()
}

// LogTail is the end of the process's log.
func (p *Process) LogTail() string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return p.Name + " log (tail):\n" + string(data)
}

// LogSize is how many bytes the process has logged.
func (p *Process) LogSize() int64 {
	fi, err := os.Stat(p.LogPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// selfCPU is this process's CPU time (the load generator's).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// freePorts reserves n distinct loopback ports and releases them for the caller.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer func() { _ = l.Close() }()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
