package certmanager

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// docBlocks are the shell blocks of docs/install.md marked `<!-- test: NAME -->`,
// which TestInstall runs as they are written.
var docBlockRE = regexp.MustCompile("(?m)^([ \t]*)<!-- test: ([a-z0-9-]+) -->\n[ \t]*```sh\n((?s:.*?))\n[ \t]*```")

func docBlocks(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(suite.Root, "docs", "install.md"))
	require.NoError(t, err)
	blocks := map[string]string{}
	for _, m := range docBlockRE.FindAllStringSubmatch(string(data), -1) {
		indent, name, body := m[1], m[2], m[3]
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			lines = append(lines, strings.TrimPrefix(l, indent))
		}
		_, dup := blocks[name]
		require.False(t, dup, "docs/install.md: two blocks named %s", name)
		blocks[name] = strings.Join(lines, "\n")
	}
	return blocks
}

// runDocBlock runs the docs/install.md block name with bash (-euo pipefail), as a
// user would paste it: from the repository root, with `kubectl` on PATH (the
// control plane's, with the admin kubeconfig).
func runDocBlock(t *testing.T, ctx context.Context, name string) (stdout, stderr string) {
	t.Helper()
	block, ok := docBlocks(t)[name]
	require.True(t, ok, "docs/install.md has no block marked <!-- test: %s -->", name)
	bin := filepath.Join(suite.WorkDir, "docs-bin")
	if _, err := os.Lstat(filepath.Join(bin, "kubectl")); err != nil {
		require.NoError(t, os.MkdirAll(bin, 0o755))
		require.NoError(t, os.Symlink(suite.Kubectl, filepath.Join(bin, "kubectl")))
	}
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+suite.Kubeconfig,
		"HOME="+suite.WorkDir, // kubectl's discovery cache
	)
	out, stderr, err := runCmd(ctx, suite.Root, nil, env, "bash", "-euo", "pipefail", "-c", block)
	t.Logf("docs/install.md %s:\n%s\n--- stdout\n%s--- stderr\n%s", name, block, out, stderr)
	require.NoError(t, err, "docs/install.md block %s: %s", name, stderr)
	return out, stderr
}

// Every marked block of docs/install.md is run by TestInstall.
func TestDocsBlocksAreTested(t *testing.T) {
	var names []string
	for n := range docBlocks(t) {
		names = append(names, n)
	}
	slices.Sort(names)
	require.Equal(t, []string{"drop-old-ca", "preview", "renew-ca", "renew-serving", "show-cabundle", "smoke", "wait-certificates"}, names)
}
