package devenv

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Each preset yields the topology its name promises, with nodes dealt
// round-robin so every zone has as many nodes as the others (or one fewer).
func TestClusterPresets(t *testing.T) {
	for _, tc := range []struct {
		preset string
		nodes  []SimNode
	}{
		{"three-zones", []SimNode{
			{"node-a1", "sim-1a"}, {"node-b1", "sim-1b"}, {"node-c1", "sim-1c"},
			{"node-a2", "sim-1a"}, {"node-b2", "sim-1b"}, {"node-c2", "sim-1c"},
		}},
		{"one-zone", []SimNode{
			{"node-a1", "sim-1a"}, {"node-a2", "sim-1a"}, {"node-a3", "sim-1a"},
			{"node-a4", "sim-1a"}, {"node-a5", "sim-1a"}, {"node-a6", "sim-1a"},
		}},
		{"no-zones", []SimNode{{"node-1", ""}, {"node-2", ""}, {"node-3", ""}, {"node-4", ""}, {"node-5", ""}, {"node-6", ""}}},
		{"two-nodes", []SimNode{{"node-a1", "sim-1a"}, {"node-b1", "sim-1b"}}},
	} {
		o, err := ClusterPreset(tc.preset)
		require.NoError(t, err, tc.preset)
		d, err := o.withDefaults()
		require.NoError(t, err, tc.preset)
		assert.Equal(t, tc.nodes, simNodes(d), tc.preset)
	}
	_, err := ClusterPreset("five-zones")
	assert.ErrorContains(t, err, "unknown cluster preset")

	d, err := (ClusterOptions{}).withDefaults()
	require.NoError(t, err)
	assert.Equal(t, ClusterOptions{Nodes: 6, Zones: 3, NodeMonitorGracePeriod: 10 * time.Second, TolerationSeconds: 30}, d,
		"the zero value is ThreeZones with the short failure timings")
	for _, bad := range []ClusterOptions{{Nodes: 2, Zones: 3}, {Nodes: 30, Zones: 27}, {Nodes: -1}, {NodeMonitorGracePeriod: time.Second}} {
		_, err := bad.withDefaults()
		assert.Error(t, err, "%+v", bad)
	}
}

// A node is registered as a cloud kubelet would: hostname, zone and region
// labels (none without zones), addresses and a pod CIDR of its own from
// reserved ranges, and real capacity.
func TestNodeObject(t *testing.T) {
	n := nodeObject(SimNode{Name: "node-b2", Zone: "sim-1b"}, 4)
	assert.Equal(t, "node-b2", n.Labels[corev1.LabelHostname])
	assert.Equal(t, "sim-1b", n.Labels[corev1.LabelTopologyZone])
	assert.Equal(t, ClusterRegion, n.Labels[corev1.LabelTopologyRegion])
	assert.Equal(t, []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.5"}, {Type: corev1.NodeHostName, Address: "node-b2"}}, n.Status.Addresses)
	assert.Equal(t, "198.18.4.0/24", n.Spec.PodCIDR)
	cpu := n.Status.Allocatable[corev1.ResourceCPU]
	assert.Equal(t, "7910m", cpu.String())

	bare := nodeObject(SimNode{Name: "node-1"}, 0)
	assert.NotContains(t, bare.Labels, corev1.LabelTopologyZone)
	assert.NotContains(t, bare.Labels, corev1.LabelTopologyRegion)
	assert.Equal(t, "node-1", bare.Labels[corev1.LabelHostname])
}

// The storage classes are the policy's fast classes, bound at first consumer.
func TestStorageClasses(t *testing.T) {
	var names []string
	for _, sc := range storageClasses() {
		names = append(names, sc.Name)
		assert.Equal(t, ZonalProvisioner, sc.Provisioner)
		assert.Equal(t, "WaitForFirstConsumer", string(*sc.VolumeBindingMode))
	}
	assert.Equal(t, []string{"gp3", "premium-rwo", "managed-csi-premium"}, names)
}

// A volume is made in its node's zone, or pinned to the node without one, and
// pre-bound to the claim it is for.
func TestZonalVolume(t *testing.T) {
	class := "gp3"
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-db-0", Namespace: "ns", UID: "u1"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &class,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("100Gi"),
			}},
		},
	}
	zoned := nodeObject(SimNode{Name: "node-c1", Zone: "sim-1c"}, 2)
	pv := zonalVolume(claim, zoned, corev1.PersistentVolumeReclaimDelete)
	key, value := VolumeTopology(pv)
	assert.Equal(t, corev1.LabelTopologyZone, key)
	assert.Equal(t, "sim-1c", value)
	assert.Equal(t, "sim-1c", pv.Labels[corev1.LabelTopologyZone])
	assert.Equal(t, "pvc-u1", pv.Name)
	assert.Equal(t, &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: "ns", Name: "data-db-0", UID: "u1"}, pv.Spec.ClaimRef)
	assert.Equal(t, resource.MustParse("100Gi"), pv.Spec.Capacity[corev1.ResourceStorage])
	assert.Equal(t, "gp3", pv.Spec.StorageClassName)

	bare := zonalVolume(claim, nodeObject(SimNode{Name: "node-4"}, 3), corev1.PersistentVolumeReclaimDelete)
	key, value = VolumeTopology(bare)
	assert.Equal(t, corev1.LabelHostname, key)
	assert.Equal(t, "node-4", value)
	assert.Empty(t, bare.Labels)
}
