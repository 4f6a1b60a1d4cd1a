package policy

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

const header = "apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\n"

func TestStoreReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, header+"api:\n  replicas: {min: 2, recommended: 4}\n")
	s, err := NewStore(path)
	require.NoError(t, err)
	assert.Equal(t, int32(4), s.Current().API.Replicas.Recommended)

	assert.Equal(t, ReloadResult{}, s.Reload(), "unchanged file is not reloaded")

	writeFile(t, path, header+"api:\n  replicas: {min: 3, recommended: 5}\n")
	r := s.Reload()
	assert.True(t, r.Changed)
	assert.NoError(t, r.Err)
	assert.Equal(t, int32(5), s.Current().API.Replicas.Recommended)

	// An invalid file is reported once and never replaces the good policy.
	writeFile(t, path, header+"api:\n  replicas: {min: 0}\n")
	r = s.Reload()
	assert.True(t, r.Changed)
	assert.ErrorContains(t, r.Err, "api.replicas.min")
	assert.Equal(t, int32(3), s.Current().API.Replicas.Min)
	assert.Equal(t, ReloadResult{}, s.Reload())

	// A missing file is reported once too; the policy stays.
	require.NoError(t, os.Remove(path))
	r = s.Reload()
	assert.Error(t, r.Err)
	assert.Equal(t, ReloadResult{}, s.Reload())
	assert.Equal(t, int32(3), s.Current().API.Replicas.Min)
}

// TestStoreFollowsConfigMapSymlinkSwap mimics how a kubelet updates a ConfigMap
// volume: the file is a symlink through ..data, which is swapped atomically.
func TestStoreFollowsConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	v1 := filepath.Join(dir, "..v1")
	require.NoError(t, os.Mkdir(v1, 0o755))
	writeFile(t, filepath.Join(v1, "policy.yaml"), header+"enforcement: {mode: deny}\n")
	require.NoError(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink("..data/policy.yaml", filepath.Join(dir, "policy.yaml")))
	s, err := NewStore(filepath.Join(dir, "policy.yaml"))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var reports []ReloadResult
	done := make(chan struct{})
	go func() {
		s.Watch(ctx, 10*time.Millisecond, func(r ReloadResult) { mu.Lock(); reports = append(reports, r); mu.Unlock() })
		close(done)
	}()

	v2 := filepath.Join(dir, "..v2")
	require.NoError(t, os.Mkdir(v2, 0o755))
	writeFile(t, filepath.Join(v2, "policy.yaml"), header+"enforcement: {mode: warn}\n")
	require.NoError(t, os.Symlink("..v2", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))

	require.Eventually(t, func() bool { return s.Current().Enforcement.Mode == ModeWarn }, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reports, 1)
	assert.NoError(t, reports[0].Err)
}

func TestStoreWithoutFileIsDefault(t *testing.T) {
	s, err := NewStore("")
	require.NoError(t, err)
	assert.Equal(t, Default(), s.Current())
	assert.Equal(t, ReloadResult{}, s.Reload())
}

func TestEnforcementValidation(t *testing.T) {
	_, err := Parse([]byte(header + "enforcement: {mode: audit}\n"))
	assert.ErrorContains(t, err, "enforcement.mode")
	_, err = Parse([]byte(header + "enforcement: {mutate: maybe}\n"))
	assert.ErrorContains(t, err, "enforcement.mutate")
	p, err := Parse([]byte(header + "enforcement: {ratchet: false}\n"))
	require.NoError(t, err)
	assert.False(t, p.Enforcement.Ratchet)
	assert.Equal(t, ModeDeny, p.Enforcement.Mode)
}
