package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

const deploymentPatch = `[{"op":"add","path":"/spec/template/spec/affinity","value":{}}]`

func writePatch(t *testing.T, dir, name, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600))
}

// A replaying no-op answers a request of a kind it has a patch for with that
// patch, byte for byte, through admission.Webhook as the server serves it,
// and any other kind as the plain no-op does.
func TestReplayAnswersWithTheKindsPatch(t *testing.T) {
	dir := t.TempDir()
	writePatch(t, dir, "Deployment.json", deploymentPatch)
	patches, err := readPatches(dir)
	require.NoError(t, err)
	wh := &admission.Webhook{Handler: replay(patches)}

	req := func(kind string) admission.Request {
		return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: types.UID("u-" + kind), Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind}}}
	}
	got := wh.Handle(context.Background(), req("Deployment"))
	assert.True(t, got.Allowed)
	assert.Equal(t, deploymentPatch, string(got.Patch))
	require.NotNil(t, got.PatchType)
	assert.Equal(t, admissionv1.PatchTypeJSONPatch, *got.PatchType)
	assert.Equal(t, "u-Deployment", string(got.UID))

	plain := wh.Handle(context.Background(), req("StatefulSet"))
	want := (&admission.Webhook{Handler: admission.HandlerFunc(allow)}).Handle(context.Background(), req("StatefulSet"))
	assert.Equal(t, want, plain, "a kind without a patch is answered as by the no-op")
}

// Anything but a directory of JSON patches keeps the no-op from starting.
func TestReadPatchesRefusesWhatIsNotAPatch(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":           `add /spec`,
		"an object":          `{"op":"add","path":"/spec"}`,
		"empty":              `[]`,
		"an op without path": `[{"op":"add","value":1}]`,
		"a path without op":  `[{"path":"/spec","value":1}]`,
		"trailing data":      deploymentPatch + `]`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writePatch(t, dir, "Deployment.json", content)
			_, err := readPatches(dir)
			assert.ErrorContains(t, err, "Deployment.json")
		})
	}
	_, err := readPatches(t.TempDir())
	assert.ErrorContains(t, err, "no KIND.json file")
	_, err = readPatches(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}
