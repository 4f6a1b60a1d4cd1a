package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// Bounds of the waits below: scheduling, kwok's pod stages and the
// controllers' resyncs take a few seconds here; the rest is room for a busy
// two-core machine.
const (
	podsTimeout = 90 * time.Second
	nodeTimeout = 60 * time.Second
)

func newNamespace(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	require.NoError(t, env.Client.Create(ctx, ns))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	return name
}

// onePerHost is required anti-affinity on the hostname among pods labelled app.
func onePerHost(app string) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey:   corev1.LabelHostname,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		}},
	}}
}

func podSpec(app string) corev1.PodSpec {
	return corev1.PodSpec{
		Affinity: onePerHost(app),
		Containers: []corev1.Container{{
			Name:  "main",
			Image: "registry.invalid/sim:1", // never pulled: kwok runs no containers
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
			}},
		}},
	}
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitPodsReady waits until exactly want pods labelled app run Ready in ns, and
// returns them.
func waitPodsReady(t *testing.T, ctx context.Context, ns, app string, want int) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	err := devenv.WaitFor(ctx, podsTimeout, fmt.Sprintf("%d Ready pods of %s/%s", want, ns, app), func(ctx context.Context) (bool, string) {
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
			return false, err.Error()
		}
		var states []string
		ready := 0
		for i := range pods.Items {
			p := &pods.Items[i]
			if podReady(p) {
				ready++
			}
			states = append(states, fmt.Sprintf("%s %s on %q", p.Name, p.Status.Phase, p.Spec.NodeName))
		}
		return ready == want && len(pods.Items) == want, strings.Join(states, "; ")
	})
	require.NoError(t, err)
	return pods.Items
}

func nodeOf(t *testing.T, ctx context.Context, name string) *corev1.Node {
	t.Helper()
	n := &corev1.Node{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: name}, n))
	return n
}

// A Deployment and a StatefulSet with a gp3 claim template are scheduled by the
// real scheduler onto distinct simulated nodes, run Ready, and every claim is
// bound to a volume pinned to its pod's zone.
func TestWorkloadsRunWithZonalVolumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "sim-workloads")

	three, two := int32(3), int32(2)
	web := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &three,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       podSpec("web"),
			},
		},
	}
	gp3 := "gp3"
	db := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &two,
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec:       podSpec("db"),
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: &gp3,
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("10Gi"),
					}},
				},
			}},
		},
	}
	db.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	require.NoError(t, env.Client.Create(ctx, web))
	require.NoError(t, env.Client.Create(ctx, db))

	webPods := waitPodsReady(t, ctx, ns, "web", 3)
	dbPods := waitPodsReady(t, ctx, ns, "db", 2)

	hosts := map[string]bool{}
	for _, p := range append(slices.Clone(webPods), dbPods...) {
		hosts[p.Spec.NodeName+"/"+p.Labels["app"]] = true
		assert.NotEmpty(t, p.Status.PodIP, "%s has a pod IP from kwok", p.Name)
	}
	assert.Len(t, hosts, 5, "each workload's pods on distinct nodes: %v", hosts)

	for _, p := range dbPods {
		node := nodeOf(t, ctx, p.Spec.NodeName)
		zone := node.Labels[corev1.LabelTopologyZone]
		require.NotEmpty(t, zone, "node %s has a zone", node.Name)

		claim := &corev1.PersistentVolumeClaim{}
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "data-" + p.Name}, claim))
		assert.Equal(t, corev1.ClaimBound, claim.Status.Phase, claim.Name)
		assert.Equal(t, node.Name, claim.Annotations["volume.kubernetes.io/selected-node"],
			"%s: provisioned for the node the scheduler picked", claim.Name)
		require.NotEmpty(t, claim.Spec.VolumeName, claim.Name)

		pv := &corev1.PersistentVolume{}
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, pv))
		key, value := devenv.VolumeTopology(pv)
		assert.Equal(t, corev1.LabelTopologyZone, key, "%s: pinned to a zone", pv.Name)
		assert.Equal(t, zone, value, "%s: in the zone of %s", pv.Name, node.Name)
		assert.Equal(t, "gp3", pv.Spec.StorageClassName)
		assert.Equal(t, corev1.VolumeBound, pv.Status.Phase)
		assert.Equal(t, resource.MustParse("10Gi"), pv.Spec.Capacity[corev1.ResourceStorage])
	}

	// The controllers' view agrees: the workloads report every replica Ready.
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(web), web))
	assert.Equal(t, int32(3), web.Status.ReadyReplicas, "Deployment status")
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(db), db))
	assert.Equal(t, int32(2), db.Status.ReadyReplicas, "StatefulSet status")
}

// A node whose heartbeats stop is marked NotReady (Ready Unknown) and tainted
// unreachable by the real node lifecycle controller, and is Ready and
// untainted again once it is restored. One node fails through the Go API, one
// through the annotation `make run` offers, at the same time.
func TestFailedNodeIsTaintedUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := env.Cluster
	nodes := c.Nodes()
	byAPI, byAnnotation := nodes[len(nodes)-1].Name, nodes[0].Name
	require.NotEqual(t, c.Nodes()[len(nodes)-1].Zone, c.Nodes()[0].Zone, "two zones fail one node each")

	require.NoError(t, c.FailNode(byAPI))
	t.Cleanup(func() { _ = c.RestoreNode(byAPI) }) // a no-op once restored
	annotate(t, ctx, byAnnotation, "true")
	t.Cleanup(func() { _ = c.RestoreNode(byAnnotation) })
	require.NoError(t, c.WaitNodesFailed(ctx, nodeTimeout, byAPI, byAnnotation))

	for _, n := range nodes {
		node := nodeOf(t, ctx, n.Name)
		if n.Name == byAPI || n.Name == byAnnotation {
			assert.True(t, devenv.NodeFailed(node), n.Name)
			assert.False(t, devenv.NodeReady(node), n.Name)
			continue
		}
		// The others keep their heartbeats: failing one node fails no other.
		assert.True(t, devenv.NodeReady(node), "%s still Ready", n.Name)
	}

	require.NoError(t, c.RestoreNode(byAPI))
	annotate(t, ctx, byAnnotation, "")
	require.NoError(t, c.WaitNodesReady(ctx, nodeTimeout, byAPI, byAnnotation))
	assert.False(t, devenv.NodeFailed(nodeOf(t, ctx, byAPI)))
	assert.False(t, devenv.NodeFailed(nodeOf(t, ctx, byAnnotation)))
}

// annotate sets devenv.FailAnnotation on a node to value, or removes it for "".
func annotate(t *testing.T, ctx context.Context, node, value string) {
	t.Helper()
	n := nodeOf(t, ctx, node)
	patch := client.MergeFrom(n.DeepCopy())
	if value == "" {
		delete(n.Annotations, devenv.FailAnnotation)
	} else {
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[devenv.FailAnnotation] = value
	}
	require.NoError(t, env.Client.Patch(ctx, n, patch))
}

// A running pod that another writer marks Ready=False while its node is up —
// as the node lifecycle controller does for a pod it sees on a node whose last
// health check failed, which happens to a restored node's first pods — MUST
// turn Ready again, the same pod, as a kubelet's status sync makes it. Without
// it a pod of a restored node could stay Running and not Ready for good.
func TestPodMarkedNotReadyOnAnUpNodeTurnsReadyAgain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "sim-status-sync")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "marked", Namespace: ns, Labels: map[string]string{"app": "marked"}},
		Spec:       podSpec("marked"),
	}
	require.NoError(t, env.Client.Create(ctx, pod))
	running := waitPodsReady(t, ctx, ns, "marked", 1)[0]
	require.True(t, devenv.NodeReady(nodeOf(t, ctx, running.Spec.NodeName)), "the pod's node is up")

	// As MarkPodsNotReady writes it: an update of the status, retried on a
	// conflict with any other writer of the pod.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pod), &running); err != nil {
			return err
		}
		for i := range running.Status.Conditions {
			if running.Status.Conditions[i].Type == corev1.PodReady {
				running.Status.Conditions[i].Status = corev1.ConditionFalse
			}
		}
		return env.Client.Status().Update(ctx, &running)
	})
	require.NoError(t, err)
	require.False(t, podReady(&running), "the API server stored Ready=False")

	again := waitPodsReady(t, ctx, ns, "marked", 1)[0]
	assert.Equal(t, running.UID, again.UID, "the same pod, not a replacement")
	assert.Equal(t, corev1.PodRunning, again.Status.Phase)
}
