package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// webhookProc is one run of the webhook binary.
type webhookProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// build compiles ./cmd/webhook into out, as the Dockerfile does (static).
func (e *Env) build(ctx context.Context, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/webhook")
	cmd.Dir = e.RepoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/webhook: %w\n%s", err, b)
	}
	return nil
}

// startWebhookFirstTime writes the certificates, picks ports and starts the
// process, picking new ports if another process took one in between.
func (e *Env) startWebhookFirstTime(ctx context.Context) error {
	certs, err := NewCerts(ServiceHost, ServiceName+"."+Namespace, ServiceHost+".cluster.local", "localhost")
	if err != nil {
		return err
	}
	if err := certs.WriteServing(e.CertDir); err != nil {
		return err
	}
	e.Certs = certs
	if e.opts.WebhookOutput == nil {
		e.WebhookLogPath = filepath.Join(e.WorkDir, "webhook.log")
		if e.logFile, err = os.OpenFile(e.WebhookLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return err
		}
	}
	for attempt := 1; ; attempt++ {
		ports, err := FreePorts(3)
		if err != nil {
			return err
		}
		e.WebhookPort, e.HealthPort, e.MetricsPort = ports[0], ports[1], ports[2]
		err = e.startWebhook(ctx)
		if err == nil || attempt == 3 || !errors.Is(err, errExited) {
			return err
		}
		e.logf("devenv: webhook exited during start-up (%v); retrying with new ports", err)
	}
}

var errExited = errors.New("webhook process exited")

// StartWebhook starts the webhook process again after StopWebhook, on the same
// ports and certificates, and waits until admission requests reach it.
func (e *Env) StartWebhook(ctx context.Context) error {
	if err := e.startWebhook(ctx); err != nil {
		return err
	}
	if e.installed {
		return e.WaitForAdmission(ctx)
	}
	return nil
}

func (e *Env) startWebhook(ctx context.Context) error {
	e.mu.Lock()
	if e.proc != nil {
		e.mu.Unlock()
		return errors.New("devenv: webhook already running")
	}
	args := []string{"serve",
		"--host", "127.0.0.1",
		"--port", strconv.Itoa(e.WebhookPort),
		"--cert-dir", e.CertDir,
		"--health-addr", "127.0.0.1:" + strconv.Itoa(e.HealthPort),
		"--metrics-addr", "127.0.0.1:" + strconv.Itoa(e.MetricsPort),
		"--log-format", "text",
		// Namespace labels (ha.laminar.io/enforce=warn) are read from this
		// control plane, never from whatever $KUBECONFIG the caller has.
		"--kubeconfig", e.KubeconfigPath,
	}
	args = append(args, e.opts.WebhookArgs...)
	cmd := exec.Command(e.WebhookBinary, args...)
	var out io.Writer = e.logFile
	if e.opts.WebhookOutput != nil {
		out = e.opts.WebhookOutput
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, like envtest's etcd and kube-apiserver: a Ctrl-C
	// at the terminal reaches only the parent, which stops it in order. And it
	// never outlives the parent, even if that one is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e.logf("devenv: starting %s %s", e.WebhookBinary, strings.Join(args, " "))
	if err := parentdeath.Start(cmd); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("start webhook: %w", err)
	}
	p := &webhookProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	e.proc = p
	e.mu.Unlock()

	if err := e.waitHealthy(ctx, p); err != nil {
		if errors.Is(err, errExited) {
			e.mu.Lock()
			e.proc = nil
			e.mu.Unlock()
		} else {
			_ = e.StopWebhook()
		}
		return err
	}
	return nil
}

// waitHealthy polls /readyz, which turns 200 once the TLS endpoint serves (and,
// with --kubeconfig, once the webhook's namespace cache has synced).
func (e *Env) waitHealthy(ctx context.Context, p *webhookProc) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.ReadyTimeout)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", e.HealthPort)
	switch err := PollReady(ctx, url, p.done); {
	case errors.Is(err, ErrProcessExited):
		return fmt.Errorf("%w before /readyz: %v%s", errExited, p.err, e.logTail())
	case err != nil:
		return fmt.Errorf("webhook /readyz at %s: %w%s", url, err, e.logTail())
	}
	return nil
}

// ErrProcessExited is PollReady's answer when the process behind the URL ended first.
var ErrProcessExited = errors.New("the process exited")

// PollReady polls url every 50ms until it answers 200 (nil), exited is closed
// (ErrProcessExited) or ctx ends (its error).
func PollReady(ctx context.Context, url string, exited <-chan struct{}) error {
	return pollReady(ctx, &http.Client{Timeout: time.Second}, url, exited)
}

// pollReady is PollReady with the caller's client (an HTTPS endpoint needs one
// that trusts its certificate).
func pollReady(ctx context.Context, hc *http.Client, url string, exited <-chan struct{}) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return ErrProcessExited
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (e *Env) logTail() string {
	if e.WebhookLogPath == "" {
		return ""
	}
	data, err := os.ReadFile(e.WebhookLogPath)
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return "\nwebhook log (tail):\n" + string(data)
}

// WebhookLog returns the webhook's log when it goes to a file, else "".
func (e *Env) WebhookLog() string {
	if e.WebhookLogPath == "" {
		return ""
	}
	data, _ := os.ReadFile(e.WebhookLogPath)
	return string(data)
}

// WebhookExited is closed when the current webhook process ends; nil when none runs.
func (e *Env) WebhookExited() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil {
		return nil
	}
	return e.proc.done
}

// WebhookPID is the current webhook process's id, for reading its
// /proc/PID/status and stat; 0 when none runs.
func (e *Env) WebhookPID() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil || e.proc.cmd.Process == nil {
		return 0
	}
	return e.proc.cmd.Process.Pid
}

// StopWebhook ends the webhook process with SIGTERM (SIGKILL after 15s) and waits
// for it. It returns an error when the process did not exit cleanly.
func (e *Env) StopWebhook() error {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("webhook had already exited: %v", p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("webhook exit after SIGTERM: %w", p.err)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("webhook ignored SIGTERM for 15s and was killed")
	}
}
