package helm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/laminar/ha-webhook/internal/devenv"
)

const (
	chartDir  = "charts/laminar-ha-webhook"
	namespace = "laminar-ha-system"
	appName   = "laminar-ha-webhook"
)

// repo is the repository root; helm and kubectl are its bin/ builds.
type repo struct {
	Root, Helm, Kubectl string
}

func findRepo(t *testing.T) repo {
	t.Helper()
	root, err := devenv.FindRepoRoot()
	require.NoError(t, err)
	r := repo{Root: root, Helm: filepath.Join(root, "bin", "helm"), Kubectl: filepath.Join(devenv.AssetsDir(root, ""), "kubectl")}
	// Never skip: a green run must mean real Helm rendered the chart.
	if _, err := os.Stat(r.Helm); err != nil {
		t.Fatalf("%v: build Helm with `make helm`", err)
	}
	if _, err := os.Stat(r.Kubectl); err != nil {
		t.Fatalf("%v: build the control plane with `make controlplane`", err)
	}
	return r
}

// run runs a command from the repository root.
func (r repo) run(ctx context.Context, name string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.Root
	// Helm's cache and config stay out of the user's home.
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(os.TempDir(), "laminar-helm-test", "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(os.TempDir(), "laminar-helm-test", "config"),
		"HELM_DATA_HOME="+filepath.Join(os.TempDir(), "laminar-helm-test", "data"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// template renders the chart into ns with the given --set/-f arguments.
func (r repo) template(t *testing.T, ns string, args ...string) (string, error) {
	t.Helper()
	all := append([]string{"template", appName, chartDir, "--namespace", ns}, args...)
	out, stderr, err := r.run(context.Background(), r.Helm, all...)
	if err != nil {
		return "", fmt.Errorf("helm %s: %w\n%s", strings.Join(all, " "), err, stderr)
	}
	return out, nil
}

func (r repo) mustTemplate(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := r.template(t, namespace, args...)
	require.NoError(t, err)
	objs, err := decode(out)
	require.NoError(t, err)
	return objs
}

// decode reads a multi-document YAML stream into objects, skipping empty documents.
func decode(data string) ([]*unstructured.Unstructured, error) {
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// key names an object across both renderings.
func key(o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s %s/%s", o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName())
}

func byKey(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		m[key(o)] = o
	}
	return m
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// find returns the one object of kind and name.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "want one %s %s", kind, name)
	return found[0]
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
