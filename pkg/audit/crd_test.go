package audit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Report CRD the install ships MUST be the one of the module the audit's
// types come from, so the two cannot drift apart on an upgrade.
func TestTheShippedCRDIsTheModules(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api").Output()
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "openreports.io_reports.yaml"))
	require.NoError(t, err)
	got, err := os.ReadFile("../../deploy/manifests/openreports.io_reports.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "copy it again from the module: make crds")
}
