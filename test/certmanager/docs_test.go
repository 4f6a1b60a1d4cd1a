package certmanager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// installDoc is the guide whose shell blocks TestInstall runs as written.
const installDoc = "docs/install.md"

// shellLangs are the fence languages of blocks a reader pastes into a shell.
var shellLangs = []string{"sh", "bash", "shell", "console"}

// docBlock is one shell block of installDoc and its marker, the comment on
// the line above it: <!-- test: NAME --> (TestInstall runs it) or
// <!-- not run: REASON --> (why the suite cannot).
type docBlock struct {
	Line   int // of the opening fence, counted from 1
	Lang   string
	Name   string
	NotRun string
	Body   string // with the fence's indentation removed
}

var (
	fenceRE      = regexp.MustCompile("^([ \t]*)```([A-Za-z0-9_-]*)[ \t]*$")
	testMarkRE   = regexp.MustCompile(`^[ \t]*<!-- test: ([a-z0-9-]+) -->[ \t]*$`)
	notRunMarkRE = regexp.MustCompile(`^[ \t]*<!-- not run: (\S.*?) -->[ \t]*$`)
	anyMarkRE    = regexp.MustCompile(`^[ \t]*<!-- (test|not run):`)
)

// parseDocBlocks finds every shell block of a Markdown document with its
// marker. A marker that is malformed or not right above a shell block is an
// error, so a typo cannot quietly turn a tested block into an untested one.
func parseDocBlocks(md string) ([]docBlock, error) {
	lines := strings.Split(md, "\n")
	var blocks []docBlock
	var errs []string
	prev := -1 // index of the last non-blank line outside a block
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.TrimSpace(lines[i]) != "" {
				if anyMarkRE.MatchString(lines[i]) && !testMarkRE.MatchString(lines[i]) && !notRunMarkRE.MatchString(lines[i]) {
					errs = append(errs, fmt.Sprintf("line %d: malformed marker %q", i+1, strings.TrimSpace(lines[i])))
				}
				if prev >= 0 && anyMarkRE.MatchString(lines[prev]) {
					errs = append(errs, fmt.Sprintf("line %d: marker not followed by a shell block", prev+1))
				}
				prev = i
			}
			continue
		}
		indent, lang, open := m[1], m[2], i
		end := -1
		for j := i + 1; j < len(lines); j++ {
			if c := fenceRE.FindStringSubmatch(lines[j]); c != nil && c[2] == "" {
				end = j
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("line %d: a ``` block that never ends", open+1)
		}
		i = end
		marker, markerLine := "", prev+1
		if prev >= 0 {
			marker = lines[prev]
		}
		prev = -1
		if !slices.Contains(shellLangs, lang) {
			if anyMarkRE.MatchString(marker) {
				errs = append(errs, fmt.Sprintf("line %d: marker above a %q block, which is not a shell block", markerLine, lang))
			}
			continue
		}
		b := docBlock{Line: open + 1, Lang: lang}
		if t := testMarkRE.FindStringSubmatch(marker); t != nil {
			b.Name = t[1]
		} else if n := notRunMarkRE.FindStringSubmatch(marker); n != nil {
			b.NotRun = n[1]
		}
		var body []string
		for _, l := range lines[open+1 : end] {
			body = append(body, strings.TrimPrefix(l, indent))
		}
		b.Body = strings.Join(body, "\n")
		blocks = append(blocks, b)
	}
	if prev >= 0 && anyMarkRE.MatchString(lines[prev]) {
		errs = append(errs, fmt.Sprintf("line %d: marker not followed by a shell block", prev+1))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return blocks, nil
}

// problems lists what keeps blocks from being accounted for: a block with no
// marker, and a name given twice. ran, when not nil, also reports each block
// marked for testing that did not run.
func problems(blocks []docBlock, ran func(name string) bool) []string {
	var out []string
	seen := map[string]int{}
	for _, b := range blocks {
		switch {
		case b.NotRun != "":
		case b.Name == "":
			out = append(out, fmt.Sprintf("%s:%d: a %s block that nothing runs: mark it <!-- test: NAME --> and run it from TestInstall, or <!-- not run: why -->",
				installDoc, b.Line, b.Lang))
		case seen[b.Name] != 0:
			out = append(out, fmt.Sprintf("%s:%d: block name %s is already used at line %d", installDoc, b.Line, b.Name, seen[b.Name]))
		case ran != nil && !ran(b.Name):
			out = append(out, fmt.Sprintf("%s:%d: block %s is marked as tested, but no step of TestInstall ran it", installDoc, b.Line, b.Name))
		}
		if b.Name != "" && seen[b.Name] == 0 {
			seen[b.Name] = b.Line
		}
	}
	return out
}

func readDocBlocks(t *testing.T) []docBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(suite.Root, installDoc))
	require.NoError(t, err)
	blocks, err := parseDocBlocks(string(data))
	require.NoError(t, err, installDoc)
	return blocks
}

// docRuns records which marked blocks runDocBlock has run in this process.
var docRuns struct {
	sync.Mutex
	names map[string]bool
}

func ranDocBlock(name string) bool {
	docRuns.Lock()
	defer docRuns.Unlock()
	return docRuns.names[name]
}

// runDocBlock runs the docs/install.md block name with bash (-euo pipefail), as a
// user would paste it: from the repository root, with `kubectl` (the control
// plane's) and `helm` (bin/helm) on PATH and the admin kubeconfig.
func runDocBlock(t *testing.T, ctx context.Context, name string) (stdout, stderr string) {
	t.Helper()
	var block *docBlock
	for _, b := range readDocBlocks(t) {
		if b.Name == name {
			block = &b
			break
		}
	}
	require.NotNil(t, block, "%s has no block marked <!-- test: %s -->", installDoc, name)
	docRuns.Lock()
	if docRuns.names == nil {
		docRuns.names = map[string]bool{}
	}
	docRuns.names[name] = true
	docRuns.Unlock()

	bin := filepath.Join(suite.WorkDir, "docs-bin")
	for name, target := range map[string]string{"kubectl": suite.Kubectl, "helm": suite.Helm} {
		if _, err := os.Lstat(filepath.Join(bin, name)); err != nil {
			require.NoError(t, os.MkdirAll(bin, 0o755))
			require.NoError(t, os.Symlink(target, filepath.Join(bin, name)))
		}
	}
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+suite.Kubeconfig,
		"HOME="+suite.WorkDir, // kubectl's discovery cache
	)
	env = append(env, suite.helmEnv()...)
	out, stderr, err := runCmd(ctx, suite.Root, nil, env, "bash", "-euo", "pipefail", "-c", block.Body)
	t.Logf("%s %s (line %d):\n%s\n--- stdout\n%s--- stderr\n%s", installDoc, name, block.Line, block.Body, out, stderr)
	require.NoError(t, err, "%s block %s: %s", installDoc, name, stderr)
	return out, stderr
}

// Every shell block of docs/install.md says whether TestInstall runs it (and
// under which name) or why it cannot; its last step, DocsBlocksAreTested,
// checks that each block marked for testing did run.
func TestDocsShellBlocksAreMarked(t *testing.T) {
	blocks := readDocBlocks(t)
	require.NotEmpty(t, blocks, "%s has no shell blocks", installDoc)
	assert.Empty(t, problems(blocks, nil))
	for _, b := range blocks {
		if b.Name != "" {
			assert.NotEmpty(t, strings.TrimSpace(b.Body), "%s:%d: block %s is empty", installDoc, b.Line, b.Name)
		}
	}
}

// stepDocsBlocksAreTested is TestInstall's last step: every shell block of
// docs/install.md was run by the steps before it, unless marked with why not.
func stepDocsBlocksAreTested(t *testing.T, _ *install) {
	assert.Empty(t, problems(readDocBlocks(t), ranDocBlock))
}

// The checks above can fail: each kind of unaccounted block is found.
func TestDocsBlockChecks(t *testing.T) {
	doc := strings.Join([]string{
		"# Guide",
		"<!-- test: first -->",
		"```sh",
		"echo one",
		"```",
		"",
		"<!-- not run: needs a kubelet -->",
		"",
		"```bash",
		"kubectl rollout status deployment/x",
		"```",
		"```console",
		"$ kubectl get pods",
		"```",
		"1. Indented:",
		"",
		"   <!-- test: second -->",
		"   ```sh",
		"   echo two",
		"     echo indented more",
		"   ```",
		"```yaml",
		"kind: NotShell",
		"```",
	}, "\n")
	blocks, err := parseDocBlocks(doc)
	require.NoError(t, err)
	require.Len(t, blocks, 4)
	assert.Equal(t, docBlock{Line: 3, Lang: "sh", Name: "first", Body: "echo one"}, blocks[0])
	assert.Equal(t, docBlock{Line: 9, Lang: "bash", NotRun: "needs a kubelet", Body: "kubectl rollout status deployment/x"}, blocks[1])
	assert.Equal(t, docBlock{Line: 12, Lang: "console", Body: "$ kubectl get pods"}, blocks[2])
	assert.Equal(t, docBlock{Line: 18, Lang: "sh", Name: "second", Body: "echo two\n  echo indented more"}, blocks[3])

	assert.Equal(t, []string{
		installDoc + ":12: a console block that nothing runs: mark it <!-- test: NAME --> and run it from TestInstall, or <!-- not run: why -->",
	}, problems(blocks, nil))
	assert.Equal(t, []string{
		installDoc + ":12: a console block that nothing runs: mark it <!-- test: NAME --> and run it from TestInstall, or <!-- not run: why -->",
		installDoc + ":18: block second is marked as tested, but no step of TestInstall ran it",
	}, problems(blocks, func(name string) bool { return name == "first" }))
	dup := append(slices.Clone(blocks[:1]), docBlock{Line: 30, Lang: "sh", Name: "first"})
	assert.Equal(t, []string{installDoc + ":30: block name first is already used at line 3"}, problems(dup, nil))

	for name, bad := range map[string]string{
		"marker above text":       "<!-- test: a -->\ntext\n```sh\nx\n```",
		"marker above yaml":       "<!-- test: a -->\n```yaml\nx: 1\n```",
		"marker at the end":       "```sh\nx\n```\n<!-- not run: why -->\n",
		"malformed marker":        "<!-- test: Has Spaces -->\n```sh\nx\n```",
		"not run without reason":  "<!-- not run: -->\n```sh\nx\n```",
		"block that never closes": "<!-- test: a -->\n```sh\nx\n",
	} {
		_, err := parseDocBlocks(bad)
		assert.Error(t, err, name)
	}
}

// The README's Helm section is what a new user installs from: each of its
// commands is, character for character, one of the guide's, so the suite runs
// it (the Helm phase of TestInstall) or the guide's marker says why it cannot.
func TestReadmeHelmCommandsAreTheGuides(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(suite.Root, "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(data), "\n### With Helm\n")
	require.True(t, ok, "README.md has a section \"### With Helm\"")
	// The next heading; a shell comment inside the block starts with one "#".
	if end := regexp.MustCompile(`(?m)^#{2,3} `).FindStringIndex(section); end != nil {
		section = section[:end[0]]
	}
	readme, err := parseDocBlocks(section)
	require.NoError(t, err)
	require.NotEmpty(t, readme, "README.md's Helm section has no shell block")

	guide := map[string]docBlock{}
	for _, b := range readDocBlocks(t) {
		for _, l := range strings.Split(b.Body, "\n") {
			guide[strings.TrimSpace(l)] = b
		}
	}
	tested := 0
	for _, rb := range readme {
		for _, l := range strings.Split(rb.Body, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			b, ok := guide[l]
			switch {
			case !ok:
				t.Errorf("README.md's Helm command %q is in no shell block of %s", l, installDoc)
			case b.Name != "":
				tested++
			case b.NotRun != "":
				t.Logf("not run by the suite: %q (%s)", l, b.NotRun)
			default:
				t.Errorf("README.md's Helm command %q is in an unmarked block of %s", l, installDoc)
			}
		}
	}
	assert.Positive(t, tested, "commands of README.md's Helm section the suite runs")
}
