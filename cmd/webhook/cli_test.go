package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under test/testdata/cli/golden")

// Paths are relative to the repository root: tests that use them chdir there,
// so outputs name files the way a user running from the root would see them.
const (
	repoRoot  = "../.."
	cliData   = "test/testdata/cli"
	goldenDir = "test/testdata/cli/golden"
)

// cli runs a command in-process with the given standard input.
func cli(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	switch args[0] {
	case "check":
		code = check(args[1:], stdin, &out, &errOut)
	case "mutate":
		code = mutateCmd(args[1:], stdin, &out, &errOut)
	default:
		code = run(context.Background(), args, &out, &errOut)
	}
	return code, out.String(), errOut.String()
}

func openFile(t *testing.T, path string) io.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.NewReader(data)
}

// TestGolden compares the output of every format over the fixtures with the files
// in test/testdata/cli/golden; go test ./cmd/webhook -update rewrites them.
func TestGolden(t *testing.T) {
	t.Chdir(repoRoot)
	cases := []struct {
		name  string
		args  []string
		stdin string // file fed to standard input
		code  int
	}{
		{name: "check-examples.txt", args: []string{"check", "-f", "examples/"}, code: exitFail},
		{name: "check-examples.json", args: []string{"check", "-o", "json", "-f", "examples/"}, code: exitFail},
		{name: "check-examples.sarif", args: []string{"check", "-o", "sarif", "-f", "examples/"}, code: exitFail},
		{name: "check-helm-stdin.txt", args: []string{"check", "-f", "-"}, stdin: cliData + "/helm-stream.yaml", code: exitFail},
		{name: "check-helm-stdin.json", args: []string{"check", "-o", "json", "-f", "-"}, stdin: cliData + "/helm-stream.yaml", code: exitFail},
		{name: "check-helm-stdin.sarif", args: []string{"check", "-o", "sarif", "--stdin-name", "rendered/laminar.yaml", "-f", "-"}, stdin: cliData + "/helm-stream.yaml", code: exitFail},
		{name: "check-broken.txt", args: []string{"check", "-f", cliData + "/broken.yaml"}, code: exitUsage},
		{name: "check-broken.json", args: []string{"check", "-o", "json", "-f", cliData + "/broken.yaml"}, code: exitUsage},
		{name: "check-broken.sarif", args: []string{"check", "-o", "sarif", "-f", cliData + "/broken.yaml"}, code: exitUsage},
		{name: "check-lists.txt", args: []string{"check", "-f", cliData + "/list.yaml", "-f", cliData + "/typed-list.json"}, code: exitFail},
		{name: "check-lists.json", args: []string{"check", "-o", "json", "-f", cliData + "/list.yaml", cliData + "/typed-list.json"}, code: exitFail},
		{name: "check-tree.txt", args: []string{"check", "-f", cliData + "/tree"}, code: exitFail},
		{name: "check-warn-only.txt", args: []string{"check", "-f", cliData + "/warn-only.yaml"}, code: exitOK},
		{name: "check-no-mutate.txt", args: []string{"check", "--no-mutate", "-f", "examples/api-good.yaml"}, code: exitFail},
		{name: "check-policy.txt", args: []string{"check", "--policy", cliData + "/strict.policy.yaml", "-f", "examples/", "-f", cliData + "/list.yaml"}, code: exitFail},
		{name: "check-rollout.txt", args: []string{"check", "--policy", cliData + "/rollout.policy.yaml", "-f", "examples/"}, code: exitFail},
		{name: "check-rollout.sarif", args: []string{"check", "-o", "sarif", "--policy", cliData + "/rollout.policy.yaml", "-f", "examples/api-bad.yaml"}, code: exitFail},
		{name: "check-typo-policy.txt", args: []string{"check", "--policy", cliData + "/typo.policy.yaml", "-f", "examples/"}, code: exitUsage},
		{name: "rules.txt", args: []string{"rules"}, code: exitOK},
		{name: "rules-rollout.txt", args: []string{"rules", "--policy", cliData + "/rollout.policy.yaml"}, code: exitOK},
		{name: "rules-rollout.md", args: []string{"rules", "--policy", cliData + "/rollout.policy.yaml", "-o", "markdown"}, code: exitOK},
		{name: "rules-typo-policy.txt", args: []string{"rules", "--policy", cliData + "/typo.policy.yaml"}, code: exitUsage},
		{name: "check-namespaces.txt", args: []string{"check", "--trust-namespace-labels", "-f", cliData + "/namespaces.yaml"}, code: exitFail},
		{name: "check-namespaces.json", args: []string{"check", "--trust-namespace-labels", "-o", "json", "-f", cliData + "/namespaces.yaml"}, code: exitFail},
		{name: "check-namespaces.sarif", args: []string{"check", "--trust-namespace-labels", "-o", "sarif", "-f", cliData + "/namespaces.yaml"}, code: exitFail},
		{name: "mutate-namespaces.yaml", args: []string{"mutate", "--trust-namespace-labels", "-f", cliData + "/namespaces.yaml"}, code: exitOK},
		{name: "check-load-balancing.txt", args: []string{"check", "-f", cliData + "/load-balancing.yaml"}, code: exitFail},
		{name: "check-load-balancing.json", args: []string{"check", "-o", "json", "-f", cliData + "/load-balancing.yaml"}, code: exitFail},
		{name: "check-load-balancing-no-mutate.txt", args: []string{"check", "--no-mutate", "-f", cliData + "/load-balancing.yaml"}, code: exitFail},
		{name: "mutate-load-balancing.yaml", args: []string{"mutate", "-f", cliData + "/load-balancing.yaml"}, code: exitOK},
		{name: "check-missing.txt", args: []string{"check", "-f", "examples/api-good.yaml", "-f", cliData + "/no-such-file.yaml"}, code: exitUsage},
		{name: "mutate-examples.yaml", args: []string{"mutate", "-f", "examples/"}, code: exitOK},
		{name: "mutate-helm-stdin.yaml", args: []string{"mutate", "-f", "-"}, stdin: cliData + "/helm-stream.yaml", code: exitOK},
		{name: "mutate-lists.yaml", args: []string{"mutate", "-f", cliData + "/list.yaml", "-f", cliData + "/typed-list.json"}, code: exitOK},
		{name: "mutate-broken.yaml", args: []string{"mutate", "-f", cliData + "/broken.yaml"}, code: exitUsage},
		{name: "mutate-native-sleep.yaml", args: []string{"mutate", "--policy", "test/testdata/mutate/api-native-sleep.policy.yaml", "-f", "test/testdata/mutate/api-native-sleep.yaml"}, code: exitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdin io.Reader
			if c.stdin != "" {
				stdin = openFile(t, c.stdin)
			}
			code, stdout, stderr := cli(t, stdin, c.args...)
			assert.Equal(t, c.code, code, "stderr: %s", stderr)
			compareGolden(t, filepath.Join(goldenDir, c.name+".golden"), stdout)
			compareGolden(t, filepath.Join(goldenDir, c.name+".stderr.golden"), stderr)
		})
	}
}

// compareGolden checks got against a golden file; an empty output has no file.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if got == "" {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				require.NoError(t, err)
			}
		} else {
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		}
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		assert.Empty(t, got, "no golden file %s; run: go test ./cmd/webhook -update", path)
		return
	}
	require.NoError(t, err)
	if d := firstDifference(string(want), got); d != "" {
		t.Errorf("output differs from %s (run: go test ./cmd/webhook -update to accept it):\n%s", path, d)
	}
}

// firstDifference shows the first line where two texts differ, with context.
func firstDifference(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	lo := max(0, i-3)
	show := func(lines []string) string {
		hi := min(len(lines), i+4)
		if lo >= hi {
			return "  (end of text)\n"
		}
		var b strings.Builder
		for n := lo; n < hi; n++ {
			mark := "  "
			if n == i {
				mark = "> "
			}
			b.WriteString(fmt.Sprintf("%s%4d | %s\n", mark, n+1, lines[n]))
		}
		return b.String()
	}
	return fmt.Sprintf("first difference at line %d\nwant:\n%sgot:\n%s", i+1, show(w), show(g))
}

func TestExitCodes(t *testing.T) {
	t.Chdir(repoRoot)
	cases := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{name: "compliant", args: []string{"check", "-f", "examples/api-good.yaml", "-f", "examples/controller.yaml"}, code: exitOK},
		{name: "warnings alone pass", args: []string{"check", "-f", cliData + "/warn-only.yaml"}, code: exitOK},
		{name: "denials fail", args: []string{"check", "-f", "examples/api-bad.yaml"}, code: exitFail},
		{name: "as written, the good api is missing its probes", args: []string{"check", "--no-mutate", "-f", "examples/api-good.yaml"}, code: exitFail},
		{name: "nothing Laminar passes", args: []string{"check", "-f", "deploy/manifests"}, code: exitOK},
		{name: "unreadable document wins over denials", args: []string{"check", "-f", cliData + "/broken.yaml"}, code: exitUsage, stderr: "document 2"},
		{name: "missing file wins over denials", args: []string{"check", "-f", "examples/api-bad.yaml", "-f", "nope.yaml"}, code: exitUsage, stderr: "nope.yaml: no such file"},
		{name: "empty directory", args: []string{"check", "-f", "cmd"}, code: exitUsage, stderr: "directory holds no .yaml, .yml, .json file"},
		{name: "no input", args: []string{"check"}, code: exitUsage, stderr: "no input"},
		{name: "unknown output", args: []string{"check", "-o", "xml", "-f", "examples/"}, code: exitUsage, stderr: `want text, json or sarif, got "xml"`},
		{name: "unknown flag", args: []string{"check", "--frobnicate", "-f", "examples/"}, code: exitUsage, stderr: "flag provided but not defined"},
		{name: "bad policy", args: []string{"check", "--policy", "nope.yaml", "-f", "examples/"}, code: exitUsage, stderr: "policy"},
		{name: "help", args: []string{"check", "-h"}, code: exitOK, stderr: "Exit status"},
		{name: "stdin twice", args: []string{"check", "-f", "-", "-f", "-"}, stdin: "examples/api-good.yaml", code: exitUsage, stderr: "more than once"},
		{name: "mutate", args: []string{"mutate", "-f", "examples/"}, code: exitOK},
		{name: "mutate broken", args: []string{"mutate", "-f", cliData + "/broken.yaml"}, code: exitUsage, stderr: "document 4"},
		{name: "mutate no input", args: []string{"mutate"}, code: exitUsage, stderr: "no input"},
		{name: "mutate bad policy", args: []string{"mutate", "--policy", "nope.yaml", "-f", "examples/"}, code: exitUsage, stderr: "policy"},
		{name: "mutate help", args: []string{"mutate", "--help"}, code: exitOK, stderr: "Usage: laminar-ha-webhook mutate"},
		{name: "audit needs a scope", args: []string{"audit"}, code: exitUsage, stderr: "give one of -n NAMESPACE and -A"},
		{name: "audit takes one scope", args: []string{"audit", "-n", "x", "-A"}, code: exitUsage, stderr: "give one of"},
		{name: "audit mode", args: []string{"audit", "-A", "--mode", "off"}, code: exitUsage, stderr: `--mode: want deny or warn, got "off"`},
		{name: "audit output", args: []string{"audit", "-A", "-o", "xml"}, code: exitUsage, stderr: `want text, json or sarif, got "xml"`},
		{name: "audit bad policy", args: []string{"audit", "-A", "--policy", "nope.yaml"}, code: exitUsage, stderr: "policy"},
		{name: "audit with no cluster", args: []string{"audit", "-A", "--kubeconfig", "nope.kubeconfig"}, code: exitUsage, stderr: "audit:"},
		{name: "rules bad output", args: []string{"rules", "-o", "xml"}, code: exitUsage, stderr: "-o must be text or markdown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdin io.Reader
			if c.stdin != "" {
				stdin = openFile(t, c.stdin)
			}
			code, _, stderr := cli(t, stdin, c.args...)
			assert.Equal(t, c.code, code, "stderr: %s", stderr)
			assert.Contains(t, stderr, c.stderr)
		})
	}
}

// TestDispatch checks the commands are reachable through the top-level switch.
func TestDispatch(t *testing.T) {
	t.Chdir(repoRoot)
	var out, errOut bytes.Buffer
	assert.Equal(t, exitFail, run(context.Background(), []string{"check", "-f", "examples/api-bad.yaml"}, &out, &errOut))
	assert.Contains(t, out.String(), "[replicas-min]")
	out.Reset()
	assert.Equal(t, exitOK, run(context.Background(), []string{"mutate", "-f", "examples/controller.yaml"}, &out, &errOut))
	assert.Contains(t, out.String(), "name: LAMINAR_LEADER_ELECT\n")
	out.Reset()
	assert.Equal(t, exitOK, run(context.Background(), []string{"help"}, &out, &errOut))
	assert.Contains(t, out.String(), "check -f PATH")
	assert.Contains(t, out.String(), "mutate -f PATH")
}

func TestStdin(t *testing.T) {
	t.Chdir(repoRoot)
	code, stdout, _ := cli(t, openFile(t, "examples/api-bad.yaml"), "check", "-o", "json", "--stdin-name", "from-pipe.yaml", "-f", "-")
	assert.Equal(t, exitFail, code)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	require.Len(t, rep.Objects, 1)
	assert.Equal(t, "from-pipe.yaml", rep.Objects[0].File)

	code, stdout, _ = cli(t, openFile(t, "examples/api-good.yaml"), "check", "-f", "-")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "<stdin>:10: document 1: Deployment laminar-api: allowed with warnings\n  WARN [pdb-missing]",
		"no budget in the input: none in the cluster it stands for")

	// Files and stdin mix, in the order given.
	code, stdout, _ = cli(t, openFile(t, "examples/api-good.yaml"), "check", "-o", "json", "-f", "examples/controller.yaml", "-f", "-")
	assert.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	require.Len(t, rep.Objects, 2)
	assert.Equal(t, "examples/controller.yaml", rep.Objects[0].File)
	assert.Equal(t, "<stdin>", rep.Objects[1].File)
}

// TestBrokenDocumentBetweenGoodOnes: a document that is not YAML, and one that is
// YAML but not a valid Deployment, are reported with file, document and line,
// and the documents around them are still judged.
func TestBrokenDocumentBetweenGoodOnes(t *testing.T) {
	t.Chdir(repoRoot)
	code, stdout, stderr := cli(t, nil, "check", "-o", "json", "-f", cliData+"/broken.yaml")
	assert.Equal(t, exitUsage, code)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	require.Len(t, rep.Errors, 2)
	assert.Equal(t, 2, rep.Errors[0].Document)
	assert.Equal(t, 28, rep.Errors[0].Line, "the parser's line, counted from the top of the file")
	assert.Contains(t, rep.Errors[0].Message, "not YAML or JSON: yaml: line 28:")
	assert.Equal(t, 4, rep.Errors[1].Document)
	assert.Contains(t, rep.Errors[1].Message, "spec.replicas")
	require.Len(t, rep.Objects, 2)
	assert.Equal(t, 1, rep.Objects[0].Document)
	assert.True(t, rep.Objects[0].Allowed)
	assert.Equal(t, 3, rep.Objects[1].Document)
	assert.False(t, rep.Objects[1].Allowed)
	assert.Contains(t, stderr, cliData+"/broken.yaml:28: document 2: not YAML or JSON")
	assert.Contains(t, stderr, cliData+"/broken.yaml:66: document 4: Deployment: object does not fit apps/v1 Deployment")

	// mutate prints every document, the broken ones as they came.
	code, stdout, _ = cli(t, nil, "mutate", "-f", cliData+"/broken.yaml")
	assert.Equal(t, exitUsage, code)
	in, err := os.ReadFile(cliData + "/broken.yaml")
	require.NoError(t, err)
	inDocs, outDocs := manifest.Split(in), manifest.Split([]byte(stdout))
	require.Len(t, outDocs, len(inDocs))
	assert.Equal(t, string(inDocs[1].Text), string(outDocs[1].Text))
	assert.Equal(t, string(inDocs[3].Text), string(outDocs[3].Text))
	assert.NotEqual(t, string(inDocs[0].Text), string(outDocs[0].Text), "the good api got its defaults")
}

func TestList(t *testing.T) {
	t.Chdir(repoRoot)
	code, stdout, _ := cli(t, nil, "check", "-o", "json", "-f", cliData+"/list.yaml", "-f", cliData+"/typed-list.json")
	assert.Equal(t, exitFail, code)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	type ref struct {
		file       string
		item       int
		kind, name string
		allowed    bool
	}
	var got []ref
	for _, o := range rep.Objects {
		got = append(got, ref{filepath.Base(o.File), o.Item, o.Kind, o.Name, o.Allowed})
	}
	require.Equal(t, []ref{
		{"list.yaml", 2, "Deployment", "laminar-api", false},
		{"list.yaml", 3, "StatefulSet", "laminar-controller", true},
		// DeploymentList items carry no kind; it comes from the list's.
		{"typed-list.json", 1, "Deployment", "laminar-api", false},
	}, got)
	require.NotEmpty(t, rep.Objects[2].Violations)
	assert.Equal(t, "api-max-unavailable", rep.Objects[2].Violations[0].RuleID)
	assert.Equal(t, 10, rep.Objects[2].Violations[0].Line)
}

func TestDirectory(t *testing.T) {
	t.Chdir(repoRoot)
	code, stdout, stderr := cli(t, nil, "check", "-o", "json", "-f", cliData+"/tree")
	assert.Equal(t, exitFail, code, stderr)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	// README.txt is not read, .hidden/ is skipped, service.json is read and
	// judged: it selects the api's pods in api.yaml.
	assert.Equal(t, 3, rep.Summary.Files)
	assert.Empty(t, rep.Errors)
	var files []string
	for _, o := range rep.Objects {
		files = append(files, o.File)
	}
	assert.Equal(t, []string{cliData + "/tree/api.yaml", cliData + "/tree/nested/controller.yml", cliData + "/tree/nested/service.json"}, files)
}

// TestMutatePassesOthersThrough: documents that are not Laminar's come out byte
// for byte, separators and comments included.
func TestMutatePassesOthersThrough(t *testing.T) {
	t.Chdir(repoRoot)
	for _, f := range []string{"test/testdata/mutate/not-laminar.yaml", "deploy/manifests/webhooks.yaml", "deploy/manifests/service.yaml"} {
		in, err := os.ReadFile(f)
		require.NoError(t, err)
		code, stdout, stderr := cli(t, nil, "mutate", "-f", f)
		assert.Equal(t, exitOK, code, stderr)
		assert.Equal(t, string(in), stdout, f)
	}
	// In a stream, only the Laminar documents change.
	in, err := os.ReadFile(cliData + "/helm-stream.yaml")
	require.NoError(t, err)
	code, stdout, _ := cli(t, bytes.NewReader(in), "mutate", "-f", "-")
	assert.Equal(t, exitOK, code)
	inDocs, outDocs := manifest.Split(in), manifest.Split([]byte(stdout))
	require.Len(t, outDocs, len(inDocs))
	for i := range inDocs {
		assert.Equal(t, string(inDocs[i].Separator), string(outDocs[i].Separator))
		changed := string(inDocs[i].Text) != string(outDocs[i].Text)
		assert.Equal(t, i == 2 || i == 3, changed, "document %d", inDocs[i].Index)
	}
}

// TestBinary builds the command and pipes manifests into check -f -, as
// `helm template … | laminar-ha-webhook check -f -` does.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "laminar-ha-webhook")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	runBin := func(stdinFile string, args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = repoRoot
		cmd.Stdin = openFile(t, filepath.Join(repoRoot, stdinFile))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return code, stdout.String(), stderr.String()
	}

	code, stdout, _ := runBin(cliData+"/helm-stream.yaml", "check", "-f", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "<stdin>:64: document 4: StatefulSet laminar/release-laminar-controller (helm: laminar/templates/controller-statefulset.yaml): denied")

	code, _, _ = runBin("examples/api-good.yaml", "check", "-f", "-")
	assert.Equal(t, 0, code)

	code, _, stderr := runBin(cliData+"/broken.yaml", "check", "-o", "sarif", "-f", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "<stdin>:28: document 2")

	code, stdout, _ = runBin(cliData+"/helm-stream.yaml", "mutate", "-f", "-")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "# Source: laminar/templates/api-deployment.yaml")
	assert.Contains(t, stdout, "maxUnavailable: 0")

	code, stdout, _ = runBin("examples/api-good.yaml", "version")
	assert.Equal(t, 0, code)
	assert.Equal(t, "laminar-ha-webhook dev\n", stdout)
}

// TestDocsExamples runs every ```console example of docs/cli.md — "$ laminar-ha-webhook ARGS [< FILE]",
// then standard error, standard output and "(exit status N)" — and compares. -update rewrites them.
func TestDocsExamples(t *testing.T) {
	t.Chdir(repoRoot)
	const path = "docs/cli.md"
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(raw), "\n")
	var out strings.Builder
	examples := 0
	for i := 0; i < len(lines); i++ {
		out.WriteString(lines[i])
		if strings.TrimSpace(lines[i]) != "```console" {
			continue
		}
		i++
		cmdLine := strings.TrimSpace(lines[i])
		out.WriteString(lines[i])
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		want := strings.Join(lines[i+1:end], "")
		args, ok := strings.CutPrefix(cmdLine, "$ laminar-ha-webhook ")
		require.True(t, ok, "%s:%d: a console example starts with $ laminar-ha-webhook", path, i+1)
		var stdin io.Reader
		if cmd, file, redirected := strings.Cut(args, " < "); redirected {
			args, stdin = cmd, openFile(t, strings.TrimSpace(file))
		}
		code, stdout, stderr := cli(t, stdin, strings.Fields(args)...)
		got := stderr + stdout + fmt.Sprintf("(exit status %d)\n", code)
		if d := firstDifference(want, got); d != "" && !*update {
			t.Errorf("%s:%d: %s\n%s(run: go test ./cmd/webhook -update to rewrite it)", path, i+1, cmdLine, d)
		}
		out.WriteString(got)
		i = end - 1
		examples++
	}
	require.GreaterOrEqual(t, examples, 5)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
	}
}

// TestMutateIsIdempotent: mutate's output, mutated again, comes out byte for byte.
func TestMutateIsIdempotent(t *testing.T) {
	t.Chdir(repoRoot)
	for _, args := range [][]string{
		{"-f", "examples/"},
		{"-f", cliData},
		{"-f", "test/testdata/mutate"},
		{"--policy", "test/testdata/mutate/api-native-sleep.policy.yaml", "-f", "test/testdata/mutate/api-native-sleep.yaml"},
	} {
		code1, first, _ := cli(t, nil, append([]string{"mutate"}, args...)...)
		policyArgs := args[:len(args)-2]
		code2, second, stderr := cli(t, strings.NewReader(first), append(append([]string{"mutate"}, policyArgs...), "-f", "-")...)
		require.Equal(t, code1, code2, stderr) // test/testdata/cli holds broken documents: 2 both times
		assert.Equal(t, first, second, "mutate %v twice", args)
	}
}

// TestFlagsAfterPaths: paths and flags may come in any order.
func TestFlagsAfterPaths(t *testing.T) {
	t.Chdir(repoRoot)
	code, stdout, stderr := cli(t, nil, "check", "examples/api-good.yaml", "-o", "json", "examples/controller.yaml", "--no-mutate")
	assert.Equal(t, exitFail, code, stderr)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	assert.False(t, rep.Mutated)
	assert.Equal(t, 2, rep.Summary.Files)
}
