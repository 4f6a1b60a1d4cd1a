package scenarios

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
)

var (
	repoRoot string
	// webhookOnce builds the webhook once for every environment of the run
	// (devenv would build it again for each).
	webhookOnce   sync.Once
	webhookBinary string
	webhookErr    error
	buildDir      string
	suiteStart    time.Time
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	var err error
	if repoRoot, err = devenv.FindRepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "scenarios:", err)
		return 1
	}
	suiteStart = time.Now()
	code := m.Run()
	elapsed := time.Since(suiteStart)
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	if path := os.Getenv("SCENARIOS_DOC"); path != "" {
		if code != 0 {
			fmt.Fprintln(os.Stderr, "scenarios: SCENARIOS_DOC: not written, the suite failed")
			return code
		}
		if missing := figures.missing(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "scenarios: SCENARIOS_DOC: not written, %d planned rows have no figures (first: %+v); run the whole suite\n",
				len(missing), missing[0])
			return 1
		}
		doc := renderDoc(measurement{
			When:     suiteStart.UTC().Format("2006-01-02 15:04 MST"),
			Where:    fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
			Duration: elapsed.Round(time.Second),
		})
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "scenarios: SCENARIOS_DOC:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "scenarios: wrote", path)
	}
	fmt.Fprintf(os.Stderr, "scenarios: suite took %s\n", elapsed.Round(time.Millisecond))
	return code
}

// webhook is the webhook binary: E2E_WEBHOOK_BINARY, else built once.
func webhook(ctx context.Context) (string, error) {
	webhookOnce.Do(func() {
		if webhookBinary = os.Getenv("E2E_WEBHOOK_BINARY"); webhookBinary != "" {
			return
		}
		if buildDir, webhookErr = os.MkdirTemp("", "scenarios-webhook-"); webhookErr != nil {
			return
		}
		webhookBinary = filepath.Join(buildDir, "laminar-ha-webhook")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", webhookBinary, "./cmd/webhook")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			webhookErr = fmt.Errorf("go build ./cmd/webhook: %w\n%s", err, out)
		}
	})
	return webhookBinary, webhookErr
}
