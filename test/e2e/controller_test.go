package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// leaderElectionEnv is set-controller-leader-election's default.
var leaderElectionEnv = []corev1.EnvVar{
	{Name: "LAMINAR_LEADER_ELECT", Value: "true"},
	{Name: "LAMINAR_LEADER_ELECT_LEASE_DURATION", Value: "15s"},
	{Name: "LAMINAR_LEADER_ELECT_RENEW_DEADLINE", Value: "10s"},
	{Name: "LAMINAR_LEADER_ELECT_RETRY_PERIOD", Value: "2s"},
}

// The example controller is admitted without warnings and gets required
// anti-affinity and leader election.
func TestControllerGetsHADefaults(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, warns := newClient(t)
	s := loadStatefulSet(t, example("controller.yaml"), newHANamespace(t))
	userArgs := container(t, &s.Spec.Template.Spec, "controller").Args
	require.NoError(t, c.Create(ctx, s))
	assert.Empty(t, warns.Take(), "a compliant controller gets no warnings")

	got := &appsv1.StatefulSet{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(s), got))
	spec := got.Spec.Template.Spec
	main := container(t, &spec, "controller")
	assert.Equal(t, userArgs, main.Args, "the user's args are never touched")
	assert.Equal(t, leaderElectionEnv, main.Env, "leader election is turned on through env")
	if assert.NotNil(t, spec.Affinity) && assert.NotNil(t, spec.Affinity.PodAntiAffinity) {
		req := spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		if assert.Len(t, req, 1, "required anti-affinity") {
			assert.Equal(t, "kubernetes.io/hostname", req[0].TopologyKey)
			assert.Equal(t, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-controller"}}, req[0].LabelSelector)
		}
		assert.Empty(t, spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	// The controller's replicas go to different zones (its volumes are zonal);
	// this control plane has no nodes, so the guide's multi-zone cluster is assumed.
	if assert.Len(t, spec.TopologySpreadConstraints, 1) {
		c := spec.TopologySpreadConstraints[0]
		assert.Equal(t, "topology.kubernetes.io/zone", c.TopologyKey)
		assert.Equal(t, corev1.DoNotSchedule, c.WhenUnsatisfiable)
		assert.Equal(t, &metav1.LabelSelector{MatchLabels: map[string]string{"app": "laminar-controller"}}, c.LabelSelector)
		assert.Empty(t, c.MatchLabelKeys, "a StatefulSet's pods carry no pod-template-hash")
	}
	// api-only defaults stay off the controller.
	assert.Nil(t, container(t, &spec, "controller").ReadinessProbe)
}

func TestControllerLeaderElection(t *testing.T) {
	t.Parallel()
	t.Run("--leader-elect=false with 3 replicas is denied", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, _ := newClient(t)
		s := loadStatefulSet(t, testdata("controller-leader-elect-false.yaml"), newNamespace(t, nil))
		err := c.Create(ctx, s)
		requireDenied(t, err, "StatefulSet", "laminar-controller", map[string]string{
			"spec.template.spec.containers[0].args[1]": "controller-leader-election",
		})
		requireNotFound(t, c, s)
	})
	t.Run("absent flag is injected", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, _ := newClient(t)
		// controller-no-checkpoint.yaml has args ["controller"] only.
		s := loadStatefulSet(t, testdata("controller-no-checkpoint.yaml"), newNamespace(t, nil))
		require.NoError(t, c.Create(ctx, s))
		got := &appsv1.StatefulSet{}
		require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(s), got))
		main := container(t, &got.Spec.Template.Spec, "controller")
		assert.Equal(t, []string{"controller"}, main.Args)
		assert.Equal(t, leaderElectionEnv, main.Env)
	})
	// The two command lines args cannot serve (issue 15, point 7): a command
	// without args, where added args would replace an image's CMD, and a shell
	// script, where they would become its $0, $1, … Both get the variables,
	// which reach the binary either way; the script is warned about.
	t.Run("command shapes, with real kubectl", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t, nil)
		_, stderr, err := kubectl(t, "apply", "-n", ns, "-f", testdata("controller-shapes.yaml"))
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "Warning: spec.template.spec.containers[0].command[2]: [controller-shell-command] script flags are unverified")
		assert.Equal(t, 1, strings.Count(stderr, "[controller-shell-command]"), "only the shell-wrapped controller is warned about:\n%s", stderr)
		for name, want := range map[string]struct{ command, args []string }{
			"laminar-controller-command": {command: []string{"/laminar", "controller", "--checkpoint-url=s3://my-bucket/laminar/checkpoints"}},
			"laminar-controller-shell": {command: []string{"/bin/sh", "-c",
				"exec /laminar controller --checkpoint-url=s3://my-bucket/laminar/checkpoints"}},
		} {
			got := &appsv1.StatefulSet{}
			require.NoError(t, env.Client.Get(testContext(t), client.ObjectKey{Namespace: ns, Name: name}, got))
			main := container(t, &got.Spec.Template.Spec, "controller")
			assert.Equal(t, want.command, main.Command, name)
			assert.Equal(t, want.args, main.Args, "%s: no args added", name)
			assert.Equal(t, leaderElectionEnv, main.Env, name)
		}

		// A false in the script's text is the user's and denied.
		out, stderr, err := kubectl(t, "apply", "--dry-run=server", "-n", ns, "-f", testdata("controller-shell-elect-false.yaml"))
		require.Error(t, err, "stdout: %s", out)
		assert.Contains(t, stderr, `spec.template.spec.containers[0].command[2]: Invalid value: "--leader-elect=false": [controller-leader-election]`)
	})
}

func TestControllerStorageClass(t *testing.T) {
	t.Parallel()
	t.Run("standard is denied", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, _ := newClient(t)
		s := loadStatefulSet(t, testdata("controller-storage-standard.yaml"), newNamespace(t, nil))
		err := c.Create(ctx, s)
		requireDenied(t, err, "StatefulSet", "laminar-controller", map[string]string{
			"spec.volumeClaimTemplates[0].spec.storageClassName": "controller-storage-class",
		})
		requireNotFound(t, c, s)
	})
	t.Run("gp3 is admitted", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, _ := newClient(t)
		s := loadStatefulSet(t, example("controller.yaml"), newNamespace(t, nil))
		require.NotEmpty(t, s.Spec.VolumeClaimTemplates, "the example's claim templates")
		require.NotNil(t, s.Spec.VolumeClaimTemplates[0].Spec.StorageClassName)
		require.Equal(t, "gp3", *s.Spec.VolumeClaimTemplates[0].Spec.StorageClassName)
		require.NoError(t, c.Create(ctx, s, client.DryRunAll))
	})
}

func TestControllerCheckpointURL(t *testing.T) {
	t.Parallel()
	t.Run("file:///data is denied", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, _ := newClient(t)
		s := loadStatefulSet(t, testdata("controller-checkpoint-file.yaml"), newNamespace(t, nil))
		err := c.Create(ctx, s)
		requireDenied(t, err, "StatefulSet", "laminar-controller", map[string]string{
			"spec.template.spec.containers[0].args[1]": "controller-checkpoint-url",
		})
		requireNotFound(t, c, s)
	})
	t.Run("missing URL is admitted with a warning", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		c, warns := newClient(t)
		s := loadStatefulSet(t, testdata("controller-no-checkpoint.yaml"), newHANamespace(t))
		require.NoError(t, c.Create(ctx, s))
		got := warns.Take()
		requireWarning(t, got, "spec.template.spec.containers[0].args: [controller-checkpoint-url-missing] ")
		assert.Len(t, got, 1, "warnings: %q", got)
	})
}

// TestAGuideConformantControllerIsNotWarned: the guide runs the controller at 2
// replicas (a leader and a standby); applied with real kubectl, such a
// controller MUST get no replica warning — "recommended 3" is the api's figure.
func TestAGuideConformantControllerIsNotWarned(t *testing.T) {
	t.Parallel()
	ns := newHANamespace(t)
	raw, err := os.ReadFile(example("controller.yaml"))
	require.NoError(t, err)
	two := strings.Replace(string(raw), "  replicas: 3\n", "  replicas: 2\n", 1)
	require.NotEqual(t, string(raw), two)
	_, stderr, err := kubectlStdin(t, two, "-n", ns, "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "[replicas-recommended]")
	assert.NotContains(t, stderr, "Warning:")
}

// TestArtifactsOutsideObjectStorageAreDenied: the guide keeps artifacts in
// durable object storage beside the checkpoints; applied with real kubectl, a
// controller writing them to a local path MUST be denied, naming the field,
// and one writing them to a bucket admitted.
func TestArtifactsOutsideObjectStorageAreDenied(t *testing.T) {
	t.Parallel()
	ns := newHANamespace(t)
	raw, err := os.ReadFile(example("controller.yaml"))
	require.NoError(t, err)
	with := func(url string) string {
		out := strings.Replace(string(raw), "            - --checkpoint-interval=30s\n",
			"            - --checkpoint-interval=30s\n            - --artifacts-url="+url+"\n", 1)
		require.NotEqual(t, string(raw), out)
		return out
	}
	_, stderr, err := kubectlStdin(t, with("/data/artifacts"), "-n", ns, "apply", "--dry-run=server", "-f", "-")
	require.Error(t, err)
	assert.Contains(t, stderr, `spec.template.spec.containers[0].args[4]: Invalid value: "/data/artifacts": [controller-artifacts-url] is a local path, not durable object storage`)
	mustKubectlStdin(t, with("s3://my-bucket/laminar/artifacts"), "-n", ns, "apply", "--dry-run=server", "-f", "-")
}

// TestScalingAControllerWithoutLeaderElectionIsDenied: a 1-replica controller
// that opts out of leader election (exempted from the replica floor) MUST NOT
// be scaled to 3 through the scale subresource, as an edit of spec.replicas
// is not: three replicas with no leader election are three leaders.
func TestScalingAControllerWithoutLeaderElectionIsDenied(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	raw, err := os.ReadFile(example("controller.yaml"))
	require.NoError(t, err)
	single := strings.NewReplacer(
		"  replicas: 3\n", "  replicas: 1\n",
		"            - --checkpoint-interval=30s\n", "            - --checkpoint-interval=30s\n            - --leader-elect=false\n",
		"  labels:\n    app: laminar-controller\n", "  labels:\n    app: laminar-controller\n  annotations:\n"+
			"    ha.laminar.io/exempt: replicas-min,replicas-recommended\n    ha.laminar.io/exempt-reason: single-writer trial, INC-42\n",
	).Replace(string(raw))
	require.Contains(t, single, "--leader-elect=false")
	_, stderr, err := kubectlStdin(t, single, "-n", ns, "apply", "-f", "-")
	require.NoError(t, err, "one replica needs no leader election: %s", stderr)

	_, stderr, err = kubectl(t, "-n", ns, "scale", "statefulset/laminar-controller", "--replicas=3")
	require.Error(t, err, "three leaders must be refused")
	assert.Contains(t, stderr, "[controller-leader-election]")

	s := &appsv1.StatefulSet{}
	require.NoError(t, env.Client.Get(testContext(t), client.ObjectKey{Namespace: ns, Name: "laminar-controller"}, s))
	assert.Equal(t, int32(1), *s.Spec.Replicas, "nothing was scaled")
}
