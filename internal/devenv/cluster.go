package devenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// ClusterRegion is the region label of every zoned simulated node.
const ClusterRegion = "sim-1"

// ClusterOptions shape the simulated cluster that Options.Cluster asks for:
// kube-scheduler and kube-controller-manager beside the API server, and fake
// Nodes, each kept Ready by a kwok process of its own that also marks the
// node's pods Running and Ready, as each real node has its own kubelet.
// Every field is optional; the zero value is ThreeZones().
type ClusterOptions struct {
	// Nodes is the number of nodes; zero means 6.
	Nodes int
	// Zones spreads the nodes round-robin over this many zones (sim-1a, sim-1b,
	// ...); zero means 3. It must not exceed Nodes (a zone without nodes is no
	// zone to the scheduler) nor 26.
	Zones int
	// NoZoneLabels leaves out topology.kubernetes.io/zone and /region, as on bare
	// metal, kind and many on-prem clusters.
	NoZoneLabels bool
	// NodeMonitorGracePeriod is how long a node may go without a heartbeat before
	// the node lifecycle controller marks it NotReady; zero means 10s (the
	// upstream default, 50s, would make every node-failure test wait that long).
	NodeMonitorGracePeriod time.Duration
	// TolerationSeconds is how long pods tolerate a NotReady or unreachable node
	// before they are evicted (the API server's DefaultTolerationSeconds
	// admission, which upstream sets to 300); zero means 30.
	TolerationSeconds int64
}

// ThreeZones is the default simulated cluster: 6 nodes over 3 zones.
func ThreeZones() *ClusterOptions { return &ClusterOptions{Nodes: 6, Zones: 3} }

// OneZone is 6 nodes in a single zone.
func OneZone() *ClusterOptions { return &ClusterOptions{Nodes: 6, Zones: 1} }

// NoZones is 6 nodes without zone labels.
func NoZones() *ClusterOptions { return &ClusterOptions{Nodes: 6, NoZoneLabels: true} }

// TwoNodes is 2 nodes in 2 zones: fewer hosts than the guide's controller replicas.
func TwoNodes() *ClusterOptions { return &ClusterOptions{Nodes: 2, Zones: 2} }

// ClusterPreset returns a preset by name: three-zones, one-zone, no-zones, two-nodes.
func ClusterPreset(name string) (*ClusterOptions, error) {
	switch name {
	case "three-zones":
		return ThreeZones(), nil
	case "one-zone":
		return OneZone(), nil
	case "no-zones":
		return NoZones(), nil
	case "two-nodes":
		return TwoNodes(), nil
	}
	return nil, fmt.Errorf("unknown cluster preset %q (want three-zones, one-zone, no-zones or two-nodes)", name)
}

func (o ClusterOptions) withDefaults() (ClusterOptions, error) {
	if o.Nodes == 0 {
		o.Nodes = 6
	}
	if o.Zones == 0 {
		o.Zones = 3
		if o.Nodes < 3 {
			o.Zones = o.Nodes
		}
	}
	if o.NodeMonitorGracePeriod == 0 {
		o.NodeMonitorGracePeriod = 10 * time.Second
	}
	if o.TolerationSeconds == 0 {
		o.TolerationSeconds = 30
	}
	switch {
	case o.Nodes < 1:
		return o, fmt.Errorf("devenv: cluster needs at least one node, not %d", o.Nodes)
	case !o.NoZoneLabels && (o.Zones < 1 || o.Zones > 26 || o.Zones > o.Nodes):
		return o, fmt.Errorf("devenv: %d zones for %d nodes (want 1 to min(26, nodes))", o.Zones, o.Nodes)
	case o.NodeMonitorGracePeriod < 4*time.Second:
		return o, fmt.Errorf("devenv: node monitor grace period %s is below 4s", o.NodeMonitorGracePeriod)
	}
	return o, nil
}

// SimNode is one simulated node.
type SimNode struct {
	Name string
	Zone string // empty without zone labels
}

// simAddresses are node i's InternalIP and pod CIDR, from the ranges reserved
// for documentation and benchmarks (RFC 5737, RFC 2544): they are only written
// into Node and Pod status, nothing ever connects to them, and they can never be
// mistaken for a real network's.
func simAddresses(i int) (nodeIP, podCIDR string) {
	return fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("198.18.%d.0/24", i)
}

// simNodes names the nodes: node-a1, node-b1, node-c1, node-a2, ... with zones
// (the letter is the zone), node-1, node-2, ... without.
func simNodes(o ClusterOptions) []SimNode {
	nodes := make([]SimNode, 0, o.Nodes)
	for i := range o.Nodes {
		if o.NoZoneLabels {
			nodes = append(nodes, SimNode{Name: fmt.Sprintf("node-%d", i+1)})
			continue
		}
		letter := string(rune('a' + i%o.Zones))
		nodes = append(nodes, SimNode{
			Name: fmt.Sprintf("node-%s%d", letter, i/o.Zones+1),
			Zone: ClusterRegion + letter,
		})
	}
	return nodes
}

// nodeObject is a Node as a cloud's kubelet registers it: well-known labels,
// an address, a pod CIDR (kwok takes pod IPs from it), and the capacity and
// allocatable of an 8-vCPU, 32-GiB instance (kwok keeps a status it finds and
// makes up 1000 CPUs otherwise).
func nodeObject(n SimNode, index int) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:           n.Name,
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         "amd64",
		corev1.LabelInstanceTypeStable: "sim.2xlarge",
		"type":                         "kwok",
	}
	if n.Zone != "" {
		labels[corev1.LabelTopologyZone] = n.Zone
		labels[corev1.LabelTopologyRegion] = ClusterRegion
	}
	q := resource.MustParse
	ip, cidr := simAddresses(index)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels},
		Spec:       corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}},
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: q("8"), corev1.ResourceMemory: q("32Gi"),
				corev1.ResourcePods: q("110"), corev1.ResourceEphemeralStorage: q("100Gi"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: q("7910m"), corev1.ResourceMemory: q("29Gi"),
				corev1.ResourcePods: q("110"), corev1.ResourceEphemeralStorage: q("95Gi"),
			},
		},
	}
}

// storageClasses are the policy's fast classes, each provisioned by the zonal
// provisioner and bound only once a pod is scheduled (WaitForFirstConsumer),
// as every cloud's block-storage class is: the disk is made in the zone of the
// node the scheduler picked.
func storageClasses() []*storagev1.StorageClass {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	expand := true
	var out []*storagev1.StorageClass
	for _, name := range policy.Default().Controller.Storage.FastStorageClasses {
		out = append(out, &storagev1.StorageClass{
			ObjectMeta:           metav1.ObjectMeta{Name: name},
			Provisioner:          ZonalProvisioner,
			VolumeBindingMode:    &wait,
			ReclaimPolicy:        &reclaim,
			AllowVolumeExpansion: &expand,
		})
	}
	return out
}

// Cluster is the running simulated cluster of an Env.
type Cluster struct {
	env   *Env
	opts  ClusterOptions
	nodes []SimNode

	certs           *Certs
	statusSyncStage string // path of kwok-pod-status-sync.yaml, written for the node kwoks
	schedulerPort   int
	controllerPort  int
	procs           []*childProc        // kube-controller-manager, kube-scheduler
	logFiles        map[string]*os.File // by component
	stopProvision   func()
	stopFailSwitch  func()

	mu      sync.Mutex
	kubelet map[string]*childProc // each node's kwok; absent while the node is failed
	stopped bool
}

// clusterAPIServerFlags are the API server flags the simulated cluster needs.
func (o ClusterOptions) apiServerFlags() map[string]string {
	s := strconv.FormatInt(o.TolerationSeconds, 10)
	return map[string]string{
		"default-not-ready-toleration-seconds":   s,
		"default-unreachable-toleration-seconds": s,
	}
}

// startCluster starts kube-controller-manager, kube-scheduler and the zonal
// provisioner, creates the storage classes, and creates each node with its
// kwok. It does not wait for them; waitReady does.
func (e *Env) startCluster(ctx context.Context, o ClusterOptions) (err error) {
	c := &Cluster{env: e, opts: o, nodes: simNodes(o), logFiles: map[string]*os.File{}, kubelet: map[string]*childProc{}}
	e.Cluster = c
	dir := filepath.Join(e.WorkDir, "cluster")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// The components serve /healthz and /readyz over HTTPS only; a certificate of
	// our own lets the readiness poll verify it instead of skipping verification.
	if c.certs, err = NewCerts("localhost"); err != nil {
		return err
	}
	if err := c.certs.WriteServing(dir); err != nil {
		return err
	}
	c.statusSyncStage = filepath.Join(dir, "kwok-pod-status-sync.yaml")
	if err := os.WriteFile(c.statusSyncStage, podStatusSyncStage, 0o600); err != nil {
		return err
	}
	ports, err := FreePorts(2)
	if err != nil {
		return err
	}
	c.schedulerPort, c.controllerPort = ports[0], ports[1]

	kc := e.KubeconfigPath
	common := []string{
		"--kubeconfig=" + kc,
		// Delegated authentication and authorization of their own endpoints
		// would otherwise look for an in-cluster config.
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		// envtest's API server has no front-proxy CA to look up; without this
		// both would log its absence every few seconds.
		"--authentication-skip-lookup",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + filepath.Join(dir, "tls.crt"),
		"--tls-private-key-file=" + filepath.Join(dir, "tls.key"),
	}
	grace := o.NodeMonitorGracePeriod
	starts := []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", append(slices.Clone(common),
			"--secure-port="+strconv.Itoa(c.controllerPort),
			// The service-account token controller needs a signing key and
			// nothing here uses its tokens (envtest's API server runs without
			// the ServiceAccount admission plugin, and there is no kubelet to
			// mount them). The CSR signer needs a CA key and no kubelet asks
			// it for a certificate. The root CA publisher takes the CA from
			// the kubeconfig, so it runs.
			"--controllers=*,-serviceaccount-token,-csrsigning",
			"--node-monitor-grace-period="+grace.String(),
			"--node-monitor-period=1s",
		)},
		{"kube-scheduler", append(slices.Clone(common),
			"--secure-port="+strconv.Itoa(c.schedulerPort),
		)},
	}
	for _, s := range starts {
		out, err := c.output(s.name)
		if err != nil {
			return err
		}
		e.logf("devenv: starting %s", s.name)
		p, err := startChild(s.name, filepath.Join(e.AssetsDir, s.name), s.args, out)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
	}

	for _, sc := range storageClasses() {
		if err := createOrReplace(ctx, e.Client, sc); err != nil {
			return fmt.Errorf("storage class %s: %w", sc.Name, err)
		}
	}
	if c.stopProvision, err = startZonalProvisioner(e.Config, e.logf); err != nil {
		return err
	}
	if c.stopFailSwitch, err = startFailSwitch(e.Config, c); err != nil {
		return err
	}
	for i, n := range c.nodes {
		if err := e.Client.Create(ctx, nodeObject(n, i)); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		if err := c.startKubelet(n.Name); err != nil {
			return err
		}
	}
	e.logf("devenv: cluster: %d nodes, %s", len(c.nodes), c.describeZones())
	return nil
}

func (c *Cluster) describeZones() string {
	if c.opts.NoZoneLabels {
		return "no zone labels"
	}
	return fmt.Sprintf("zones %s", strings.Join(c.Zones(), ", "))
}

// podStatusSyncStage is the kwok stage that plays a kubelet's pod status
// sync; the file says why kwok's own stages need it.
//
//go:embed kwok-pod-status-sync.yaml
var podStatusSyncStage []byte

// startKubelet starts the kwok that plays node's kubelet: it manages that node
// alone, holds its lease, and plays the pod stages for the pods bound to it.
func (c *Cluster) startKubelet(node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errors.New("devenv: cluster stopped")
	}
	if c.kubelet[node] != nil {
		return nil
	}
	name := "kwok-" + node
	out, err := c.output(name)
	if err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + c.env.KubeconfigPath,
		"--config=" + filepath.Join(c.env.AssetsDir, "kwok-stages.yaml"),
		"--config=" + c.statusSyncStage,
		"--manage-single-node=" + node,
		// kwok renews the lease every quarter of its duration: four renewals
		// per grace period, so a slow moment on two busy cores is not a node
		// failure.
		"--node-lease-duration-seconds=" + strconv.Itoa(int(c.opts.NodeMonitorGracePeriod.Seconds())),
	}
	p, err := startChild(name, filepath.Join(c.env.AssetsDir, "kwok"), args, out)
	if err != nil {
		return err
	}
	c.kubelet[node] = p
	return nil
}

// output is where a component writes: Options.ControlPlaneOutput, else its own
// log file in the work dir (a restored node's kwok appends to its first one's).
func (c *Cluster) output(name string) (io.Writer, error) {
	if w := c.env.opts.ControlPlaneOutput; w != nil {
		return w, nil
	}
	if f := c.logFiles[name]; f != nil {
		return f, nil
	}
	path := filepath.Join(c.env.WorkDir, "cluster", name+".log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	c.logFiles[name] = f
	return f, nil
}

// waitReady returns once kube-scheduler and kube-controller-manager answer
// their health checks and every node is Ready and untainted.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.env.opts.ReadyTimeout)
	defer cancel()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.certs.CACert)
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
	defer hc.CloseIdleConnections()
	for _, p := range c.procs {
		var url string
		switch p.name {
		case "kube-scheduler":
			url = fmt.Sprintf("https://127.0.0.1:%d/readyz", c.schedulerPort)
		case "kube-controller-manager":
			url = fmt.Sprintf("https://127.0.0.1:%d/healthz", c.controllerPort)
		}
		switch err := pollReady(ctx, hc, url, p.done); {
		case errors.Is(err, ErrProcessExited):
			return fmt.Errorf("%s exited: %v%s", p.name, p.err, c.LogTail(p.name))
		case err != nil:
			return fmt.Errorf("%s at %s: %w%s", p.name, url, err, c.LogTail(p.name))
		}
	}
	// kwok serves nothing here: Ready nodes are its sign of life.
	if err := c.WaitNodesReady(ctx, c.env.opts.ReadyTimeout); err != nil {
		return fmt.Errorf("%w%s", err, c.LogTail("kwok-"+c.nodes[0].Name))
	}
	return nil
}

// LogTail is the end of a component's log (kube-scheduler,
// kube-controller-manager, or kwok-<node> for a node's kwok), for failure
// reports; "" when it goes to Options.ControlPlaneOutput.
func (c *Cluster) LogTail(name string) string {
	c.mu.Lock()
	f := c.logFiles[name]
	c.mu.Unlock()
	if f == nil {
		return ""
	}
	data, err := os.ReadFile(f.Name())
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return "\n" + name + " log (tail):\n" + string(data)
}

// stop ends the provisioner, the nodes' kwoks, kube-scheduler and
// kube-controller-manager. They hold watches on kube-apiserver, so they go
// before it.
func (c *Cluster) stop() error {
	var errs []error
	if c.stopFailSwitch != nil {
		c.stopFailSwitch()
	}
	if c.stopProvision != nil {
		c.stopProvision()
	}
	c.mu.Lock()
	c.stopped = true
	kubelets := c.kubelet
	c.kubelet = nil
	c.mu.Unlock()
	for _, p := range kubelets {
		if err := p.stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		if err := c.procs[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range c.logFiles {
		_ = f.Close()
	}
	return errors.Join(errs...)
}

// Nodes are the simulated nodes, in creation order.
func (c *Cluster) Nodes() []SimNode { return slices.Clone(c.nodes) }

// Zones are the zones in use, sorted; none without zone labels.
func (c *Cluster) Zones() []string {
	var zones []string
	for _, n := range c.nodes {
		if n.Zone != "" && !slices.Contains(zones, n.Zone) {
			zones = append(zones, n.Zone)
		}
	}
	slices.Sort(zones)
	return zones
}

// NodesInZone are the names of the nodes in zone.
func (c *Cluster) NodesInZone(zone string) []string {
	var names []string
	for _, n := range c.nodes {
		if n.Zone == zone {
			names = append(names, n.Name)
		}
	}
	return names
}

func (c *Cluster) nodeNames() []string {
	names := make([]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		names = append(names, n.Name)
	}
	return names
}

// NodeReady says whether the scheduler may use n: Ready, and free of the taints
// the node lifecycle controller sets on a NotReady or unreachable node.
func NodeReady(n *corev1.Node) bool {
	ready := false
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			ready = cond.Status == corev1.ConditionTrue
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	return ready
}

// NodeFailed says whether n is what a dead kubelet leaves: Ready Unknown and
// tainted unreachable for both scheduling (NoSchedule) and running pods
// (NoExecute, which evicts them once their toleration runs out).
func NodeFailed(n *corev1.Node) bool {
	unknown := false
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			unknown = cond.Status == corev1.ConditionUnknown
		}
	}
	var noSchedule, noExecute bool
	for _, t := range n.Spec.Taints {
		if t.Key != corev1.TaintNodeUnreachable {
			continue
		}
		noSchedule = noSchedule || t.Effect == corev1.TaintEffectNoSchedule
		noExecute = noExecute || t.Effect == corev1.TaintEffectNoExecute
	}
	return unknown && noSchedule && noExecute
}

// WaitNodesReady waits, at most timeout, until the named nodes (all when none
// are named) are NodeReady.
func (c *Cluster) WaitNodesReady(ctx context.Context, timeout time.Duration, names ...string) error {
	return c.waitNodes(ctx, timeout, "Ready", NodeReady, names)
}

// WaitNodesFailed waits, at most timeout, until the named nodes are NodeFailed.
// With the default grace period that takes about 10 s after FailNode.
func (c *Cluster) WaitNodesFailed(ctx context.Context, timeout time.Duration, names ...string) error {
	if len(names) == 0 {
		return errors.New("devenv: WaitNodesFailed needs node names")
	}
	return c.waitNodes(ctx, timeout, "failed (Ready Unknown, tainted unreachable)", NodeFailed, names)
}

func (c *Cluster) waitNodes(ctx context.Context, timeout time.Duration, what string, ok func(*corev1.Node) bool, names []string) error {
	if len(names) == 0 {
		names = c.nodeNames()
	}
	return WaitFor(ctx, timeout, fmt.Sprintf("nodes %s %s", strings.Join(names, ","), what), func(ctx context.Context) (bool, string) {
		var list corev1.NodeList
		if err := c.env.Client.List(ctx, &list); err != nil {
			return false, err.Error()
		}
		var pending []string
		for _, name := range names {
			i := slices.IndexFunc(list.Items, func(n corev1.Node) bool { return n.Name == name })
			if i < 0 {
				pending = append(pending, name+" (missing)")
			} else if !ok(&list.Items[i]) {
				pending = append(pending, name+" ("+nodeState(&list.Items[i])+")")
			}
		}
		return len(pending) == 0, "not yet: " + strings.Join(pending, ", ")
	})
}

// nodeState is a node's Ready status and taints, for wait reports.
func nodeState(n *corev1.Node) string {
	ready := "no Ready condition"
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			ready = "Ready=" + string(cond.Status)
		}
	}
	var taints []string
	for _, t := range n.Spec.Taints {
		taints = append(taints, t.Key+":"+string(t.Effect))
	}
	return ready + " taints=[" + strings.Join(taints, " ") + "]"
}

// FailNode stops the node's heartbeats, as a dead kubelet, a powered-off
// machine or a lost network would: its kwok is killed, its lease expires, and
// the node lifecycle controller marks it NotReady, taints it unreachable and,
// once the pods' toleration runs out, evicts them. Nothing on the node confirms
// their deletion any more, so they stay Terminating, as on a real dead node.
// Failing a failed node does nothing.
func (c *Cluster) FailNode(name string) error {
	if !slices.Contains(c.nodeNames(), name) {
		return fmt.Errorf("devenv: no simulated node %q", name)
	}
	c.mu.Lock()
	p := c.kubelet[name]
	delete(c.kubelet, name)
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	// SIGKILL, not SIGTERM: a dying node says goodbye to nobody.
	_ = p.cmd.Process.Kill()
	<-p.done
	return nil
}

// RestoreNode brings a failed node back: a new kwok takes its lease, the node
// turns Ready, the node lifecycle controller lifts the taints, and pods left
// Terminating on it finish. Restoring a running node does nothing.
func (c *Cluster) RestoreNode(name string) error {
	if !slices.Contains(c.nodeNames(), name) {
		return fmt.Errorf("devenv: no simulated node %q", name)
	}
	return c.startKubelet(name)
}

// FailZone fails every node of zone, as a zone outage does, and returns their
// names.
func (c *Cluster) FailZone(zone string) ([]string, error) {
	names := c.NodesInZone(zone)
	if zone == "" || len(names) == 0 {
		return nil, fmt.Errorf("devenv: no nodes in zone %q", zone)
	}
	for _, n := range names {
		if err := c.FailNode(n); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// RestoreZone restores every node of zone.
func (c *Cluster) RestoreZone(zone string) error {
	for _, n := range c.NodesInZone(zone) {
		if err := c.RestoreNode(n); err != nil {
			return err
		}
	}
	return nil
}

// WaitFor polls cond every 200ms until it holds, ctx ends or timeout passes;
// the error names what was awaited and cond's last report of the state.
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		ok, state := cond(ctx)
		if ok {
			return nil
		}
		if ctx.Err() == nil || last == "" {
			last = state
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; last: %s", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}
