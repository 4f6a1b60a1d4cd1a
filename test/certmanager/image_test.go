package certmanager

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"go/version"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The binary TestMain built with the Dockerfile's own go build command (the one
// the rest of this suite runs) is static: it runs on distroless/static, which
// has no libc and no dynamic loader.
func TestImageBuildIsStatic(t *testing.T) {
	b := suite.Build
	assert.Equal(t, "0", b.Env["CGO_ENABLED"], "Dockerfile line %d: CGO_ENABLED=0 belongs to the go build command", b.Line)
	assert.Contains(t, b.Args, "-trimpath", "Dockerfile line %d", b.Line)
	ld, ok := b.flag("-ldflags")
	require.True(t, ok, "Dockerfile line %d: go build has no -ldflags", b.Line)
	assert.Subset(t, strings.Fields(ld), []string{"-s", "-w"}, "-ldflags strips symbols and DWARF")
	require.NotEmpty(t, b.Args, "Dockerfile line %d: go build has no arguments", b.Line)
	assert.Equal(t, "./cmd/webhook", b.Args[len(b.Args)-1], "builds the webhook command")

	f, err := elf.Open(suite.Binary)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "a PT_INTERP header names a dynamic loader: the binary is dynamically linked")
		assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "a PT_DYNAMIC header: the binary is dynamically linked")
	}
	libs, err := f.ImportedLibraries()
	if err == nil {
		assert.Empty(t, libs, "DT_NEEDED libraries")
	}
	assert.Nil(t, f.Section(".symtab"), "-s: no symbol table")
	assert.Nil(t, f.Section(".debug_info"), "-w: no DWARF")

	info, err := buildinfo.ReadFile(suite.Binary)
	require.NoError(t, err)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	assert.Equal(t, "0", settings["CGO_ENABLED"])
	assert.Equal(t, "true", settings["-trimpath"])
	assert.Equal(t, "github.com/laminar/ha-webhook/cmd/webhook", info.Path)
}

// The product binary links none of the test-only modules go.mod requires for
// this suite (cert-manager and what it pulls in). `go version -m` lists every
// module a binary was built from.
func TestImageBinaryHasNoTestOnlyModules(t *testing.T) {
	out, stderr, err := runCmd(context.Background(), suite.Root, nil, nil, "go", "version", "-m", suite.Binary)
	require.NoError(t, err, stderr)
	require.Contains(t, out, "\tpath\tgithub.com/laminar/ha-webhook/cmd/webhook")
	// (k8s.io/apiserver it does link: controller-runtime's metrics filter
	// authenticates and authorizes scrapers with its delegating authenticator
	// and authorizer.)
	for _, mod := range []string{"github.com/cert-manager/cert-manager", "sigs.k8s.io/gateway-api", "k8s.io/kube-aggregator"} {
		assert.NotContains(t, out, "\t"+mod+"\t", "go version -m: the webhook binary links %s", mod)
	}
	// Nor does it carry envtest, devenv or testify.
	for _, mod := range []string{"github.com/stretchr/testify"} {
		assert.NotContains(t, out, "\t"+mod+"\t")
	}
}

// The Dockerfile is multi-stage: a Go toolchain stage builds, and the image is
// distroless/static running as the distroless nonroot user.
func TestDockerfileStages(t *testing.T) {
	df, err := readDockerfile(filepath.Join(suite.Root, "Dockerfile"))
	require.NoError(t, err)
	stages := df.stages()
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage")

	build := stages[0]
	assert.Regexp(t, `^--platform=\$BUILDPLATFORM golang:\$\{GO_VERSION\} AS build$`, build[0].Args, "builder stage")
	var goVersion string
	for _, in := range df.Instructions {
		if m := regexp.MustCompile(`^GO_VERSION=(\S+)$`).FindStringSubmatch(in.Args); in.Cmd == "ARG" && m != nil {
			goVersion = m[1]
		}
	}
	require.NotEmpty(t, goVersion, "ARG GO_VERSION")
	modData, err := os.ReadFile(filepath.Join(suite.Root, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(modData)
	require.NotNil(t, m, "go directive in go.mod")
	assert.GreaterOrEqual(t, version.Compare("go"+goVersion, "go"+string(m[1])), 0,
		"the image's Go (%s) is older than go.mod's go directive (%s)", goVersion, m[1])

	final := stages[len(stages)-1]
	assert.Regexp(t, `^gcr\.io/distroless/static-debian\d+:nonroot(@sha256:[0-9a-f]{64})?$`, final[0].Args, "final stage base")
	var user, entrypoint string
	var copied bool
	for _, in := range final[1:] {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			entrypoint = in.Args
		case "COPY":
			copied = copied || strings.HasPrefix(in.Args, "--from=build ")
		case "RUN":
			t.Errorf("line %d: the final stage has no shell to RUN anything", in.Line)
		}
	}
	assert.Equal(t, "65532:65532", user, "USER of the final stage")
	assert.True(t, copied, "the final stage copies the binary from the build stage")
	var ep []string
	require.NoError(t, json.Unmarshal([]byte(entrypoint), &ep), "ENTRYPOINT in exec form")
	assert.Equal(t, []string{"/laminar-ha-webhook"}, ep)
	assert.True(t, strings.HasPrefix(suite.Build.Output, "/"), "go build -o is an absolute path")
}

// Every file `go build ./cmd/webhook` reads is in the Docker build context
// (.dockerignore) and copied into the build stage; tests and tools are not.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	ignore, err := readDockerignore(filepath.Join(suite.Root, ".dockerignore"))
	require.NoError(t, err)
	df, err := readDockerfile(filepath.Join(suite.Root, "Dockerfile"))
	require.NoError(t, err)
	var copies []string
	for _, in := range df.stages()[0] {
		if in.Cmd == "COPY" && !strings.HasPrefix(in.Args, "--from") {
			f := strings.Fields(in.Args)
			copies = append(copies, f[:len(f)-1]...)
		}
	}

	out, stderr, err := runCmd(context.Background(), suite.Root, nil, append(os.Environ(), "CGO_ENABLED=0"),
		"go", "list", "-deps", "-json=Dir,Module,GoFiles,EmbedFiles,CgoFiles", "./cmd/webhook")
	require.NoError(t, err, stderr)
	inputs := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var p struct {
			Dir                           string
			Module                        *struct{ Main bool }
			GoFiles, EmbedFiles, CgoFiles []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, err := filepath.Rel(suite.Root, p.Dir)
		require.NoError(t, err)
		for _, f := range append(append(p.GoFiles, p.EmbedFiles...), p.CgoFiles...) {
			inputs = append(inputs, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	require.Greater(t, len(inputs), 10)
	for _, f := range inputs {
		assert.False(t, ignore.excluded(f), ".dockerignore drops %s, which go build ./cmd/webhook reads", f)
		copiedIn := false
		for _, c := range copies {
			c = strings.TrimSuffix(c, "/")
			copiedIn = copiedIn || f == c || strings.HasPrefix(f, c+"/")
		}
		assert.True(t, copiedIn, "the build stage does not COPY %s", f)
	}
	for _, f := range []string{".git/HEAD", "bin/k8s/kube-apiserver", "bin/laminar-ha-webhook", ".cache/x",
		"test/e2e/api_test.go", "pkg/rules/replicas_test.go", "pkg/policy/testdata/policy-full.yaml", "deploy/manifests/deployment.yaml"} {
		assert.True(t, ignore.excluded(f), ".dockerignore keeps %s in the build context", f)
	}
}

// dockerignore implements .dockerignore matching: patterns are matched against
// the path and each of its parent directories, `**` spans directories, `!`
// re-includes, and the last matching pattern wins.
type dockerignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

func readDockerignore(p string) (*dockerignore, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	di := &dockerignore{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, strings.TrimSpace(line[1:])
		}
		line = strings.TrimPrefix(path.Clean(line), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		rx, err := regexp.Compile(re.String())
		if err != nil {
			return nil, err
		}
		r.re = rx
		di.rules = append(di.rules, r)
	}
	return di, nil
}

func (d *dockerignore) excluded(file string) bool {
	var paths []string
	for p := file; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		paths = append(paths, p)
	}
	excluded := false
	for _, r := range d.rules {
		for _, p := range paths {
			if r.re.MatchString(p) {
				excluded = !r.negate
				break
			}
		}
	}
	return excluded
}
