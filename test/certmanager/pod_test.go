package certmanager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// localPod runs the webhook Deployment's container on this machine the way a
// kubelet runs it in a pod: its args and env from the stored Deployment, its
// Secret and ConfigMap volumes projected into local directories (and kept up
// to date, with the kubelet's atomic symlink swap), and its ServiceAccount's
// token as its identity. Only the listen addresses become local ports.
type localPod struct {
	Deployment *appsv1.Deployment
	Container  corev1.Container
	Volumes    map[string]*projectedVolume // by volume name

	WebhookPort, HealthPort, MetricsPort int
	Args                                 []string
	LogPath                              string

	kubeletCancel context.CancelFunc
	kubeletDone   chan struct{}
	kubeletErr    atomic.Pointer[error]

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// projectedVolume is a Secret or ConfigMap volume as the kubelet writes it.
type projectedVolume struct {
	Name, Dir, MountPath string
	Secret, ConfigMap    string
	Items                []corev1.KeyToPath
	Mode                 fs.FileMode

	mu     sync.Mutex
	last   map[string][]byte
	writes int
}

// Files is what the volume currently holds.
func (v *projectedVolume) Files() map[string][]byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.last)
}

// startLocalPod starts the kubelet stand-in and the webhook, and waits until
// the container's readiness probe passes.
func startLocalPod(ctx context.Context, dir string) (*localPod, error) {
	p := &localPod{Volumes: map[string]*projectedVolume{}, LogPath: filepath.Join(dir, "webhook.log")}
	dep := &appsv1.Deployment{}
	if err := suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, dep); err != nil {
		return nil, err
	}
	p.Deployment = dep
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		return nil, fmt.Errorf("want one container, have %d", len(spec.Containers))
	}
	p.Container = spec.Containers[0]
	if err := p.volumes(dir, spec); err != nil {
		return nil, err
	}

	kctx, cancel := context.WithCancel(context.Background())
	p.kubeletCancel, p.kubeletDone = cancel, make(chan struct{})
	go p.kubelet(kctx)
	ok := false
	defer func() {
		if !ok {
			_, _ = p.Stop()
		}
	}()
	// A pod starts only once every volume can be mounted.
	if err := eventually(ctx, 60*time.Second, "volumes mounted", func(context.Context) (bool, string, error) {
		if e := p.kubeletErr.Load(); e != nil {
			return false, "", *e
		}
		for _, v := range p.Volumes {
			if len(v.Files()) == 0 {
				return false, "waiting for " + v.Name, nil
			}
		}
		return true, "", nil
	}); err != nil {
		return nil, err
	}

	kubeconfig, err := serviceAccountKubeconfig(ctx, spec.ServiceAccountName, filepath.Join(dir, "sa-kubeconfig"))
	if err != nil {
		return nil, err
	}
	ports, err := devenv.FreePorts(3)
	if err != nil {
		return nil, err
	}
	p.WebhookPort, p.HealthPort, p.MetricsPort = ports[0], ports[1], ports[2]
	if p.Args, err = p.localArgs(kubeconfig); err != nil {
		return nil, err
	}
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, e := range p.Container.Env {
		if e.ValueFrom != nil {
			return nil, fmt.Errorf("env %s: valueFrom is not supported here", e.Name)
		}
		env = append(env, e.Name+"="+e.Value)
	}
	log, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer func() { _ = log.Close() }()
	p.cmd = exec.Command(suite.Binary, p.Args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// It dies with this process, however that ends.
	if err := parentdeath.Start(p.cmd); err != nil {
		return nil, err
	}
	p.done = make(chan struct{})
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

func (p *localPod) volumes(dir string, spec corev1.PodSpec) error {
	byName := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		byName[v.Name] = v
	}
	for _, m := range p.Container.VolumeMounts {
		v, ok := byName[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %s: no such volume", m.Name)
		}
		if m.SubPath != "" {
			return fmt.Errorf("volumeMount %s: subPath mounts never see updates", m.Name)
		}
		pv := &projectedVolume{Name: v.Name, Dir: filepath.Join(dir, "volumes", v.Name), MountPath: m.MountPath, Mode: 0o644}
		switch {
		case v.Secret != nil:
			pv.Secret, pv.Items = v.Secret.SecretName, v.Secret.Items
			if v.Secret.DefaultMode != nil {
				pv.Mode = fs.FileMode(*v.Secret.DefaultMode)
			}
		case v.ConfigMap != nil:
			pv.ConfigMap, pv.Items = v.ConfigMap.Name, v.ConfigMap.Items
			if v.ConfigMap.DefaultMode != nil {
				pv.Mode = fs.FileMode(*v.ConfigMap.DefaultMode)
			}
		default:
			return fmt.Errorf("volume %s: only Secret and ConfigMap volumes are projected here", v.Name)
		}
		if err := os.MkdirAll(pv.Dir, 0o755); err != nil {
			return err
		}
		p.Volumes[v.Name] = pv
	}
	return nil
}

// localArgs rewrites the container's args for this machine: listen addresses
// become local ports (after checking they are the container's declared ports)
// and mounted paths become the projected directories.
func (p *localPod) localArgs(kubeconfig string) ([]string, error) {
	declared := map[string]int32{}
	for _, cp := range p.Container.Ports {
		declared[cp.Name] = cp.ContainerPort
	}
	want := func(name, value string) error {
		if port, ok := declared[name]; !ok || value != strconv.Itoa(int(port)) {
			return fmt.Errorf("container port %q is %d, but the args say %s", name, declared[name], value)
		}
		return nil
	}
	var args []string
	for _, a := range append(append([]string(nil), p.Container.Command...), p.Container.Args...) {
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case name == "--port":
			if err := want("webhook", value); err != nil {
				return nil, err
			}
			a = name + "=" + strconv.Itoa(p.WebhookPort)
		case name == "--health-addr":
			if err := want("health", strings.TrimPrefix(value, ":")); err != nil {
				return nil, err
			}
			a = name + "=127.0.0.1:" + strconv.Itoa(p.HealthPort)
		case name == "--metrics-addr":
			if err := want("metrics", strings.TrimPrefix(value, ":")); err != nil {
				return nil, err
			}
			a = name + "=127.0.0.1:" + strconv.Itoa(p.MetricsPort)
		case name == "--kubeconfig" || name == "--host":
			return nil, fmt.Errorf("the Deployment sets %s; in a pod the in-cluster config and all addresses are right", name)
		case hasValue:
			for _, v := range p.Volumes {
				if value == v.MountPath || strings.HasPrefix(value, v.MountPath+"/") {
					a = name + "=" + v.Dir + strings.TrimPrefix(value, v.MountPath)
				}
			}
		}
		args = append(args, a)
	}
	return append(args, "--host=127.0.0.1", "--kubeconfig="+kubeconfig), nil
}

// kubelet keeps every volume equal to its source object, as the kubelet's
// volume manager does (it is lazier: up to about a minute behind).
func (p *localPod) kubelet(ctx context.Context) {
	defer close(p.kubeletDone)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, v := range p.Volumes {
			if err := v.sync(ctx); err != nil && ctx.Err() == nil {
				p.kubeletErr.Store(&err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (v *projectedVolume) sync(ctx context.Context) error {
	var data map[string][]byte
	var key ctrlclient.ObjectKey
	switch {
	case v.Secret != "":
		key = ctrlclient.ObjectKey{Namespace: namespace, Name: v.Secret}
		s := &corev1.Secret{}
		if err := suite.Client.Get(ctx, key, s); err != nil {
			return ignoreNotFound(err)
		}
		data = s.Data
	default:
		key = ctrlclient.ObjectKey{Namespace: namespace, Name: v.ConfigMap}
		cm := &corev1.ConfigMap{}
		if err := suite.Client.Get(ctx, key, cm); err != nil {
			return ignoreNotFound(err)
		}
		data = map[string][]byte{}
		for k, s := range cm.Data {
			data[k] = []byte(s)
		}
	}
	files := map[string][]byte{}
	if len(v.Items) == 0 {
		files = data
	} else {
		for _, it := range v.Items {
			d, ok := data[it.Key]
			if !ok {
				return nil // the kubelet does not mount a volume with a missing key
			}
			files[it.Path] = d
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if maps.EqualFunc(files, v.last, func(a, b []byte) bool { return string(a) == string(b) }) {
		return nil
	}
	if err := atomicWrite(v.Dir, files, v.Mode); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	v.last = maps.Clone(files)
	v.writes++
	return nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// atomicWrite updates dir the way the kubelet's AtomicWriter does: the files
// go into a new timestamped directory, the ..data symlink is swapped to it in
// one rename, and each visible file is a symlink through ..data. A reader never
// sees a new certificate with an old key.
func atomicWrite(dir string, files map[string][]byte, mode fs.FileMode) error {
	ts, err := os.MkdirTemp(dir, ".."+time.Now().UTC().Format("2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(ts, name), data, mode); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(ts, name), mode); err != nil {
			return err
		}
	}
	dataLink := filepath.Join(dir, "..data")
	old, _ := os.Readlink(dataLink)
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataLink); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); errors.Is(err, fs.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				return err
			}
		}
	}
	if old != "" && old != filepath.Base(ts) {
		return os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates with a
// freshly requested token of the ServiceAccount, like a pod's projected token.
func serviceAccountKubeconfig(ctx context.Context, sa, path string) (string, error) {
	if sa == "" {
		return "", errors.New("the pod template names no serviceAccountName")
	}
	tr, err := suite.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for ServiceAccount %s/%s: %w", namespace, sa, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: suite.Config.Host, CertificateAuthorityData: suite.Config.CAData}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "sa", Namespace: namespace}
	cfg.CurrentContext = "sa"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", err
	}
	return path, nil
}

// waitReady polls the container's readiness probe (its path, on the local
// health port) until it passes.
func (p *localPod) waitReady(ctx context.Context) error {
	rp := p.Container.ReadinessProbe
	if rp == nil || rp.HTTPGet == nil {
		return errors.New("the container has no HTTP readiness probe")
	}
	if rp.HTTPGet.Port.String() != "health" {
		return fmt.Errorf("readiness probe port %s: want the health port", rp.HTTPGet.Port.String())
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", p.HealthPort, rp.HTTPGet.Path)
	hc := &http.Client{Timeout: time.Second}
	return eventually(ctx, 60*time.Second, "webhook readiness "+rp.HTTPGet.Path, func(ctx context.Context) (bool, string, error) {
		select {
		case <-p.done:
			return false, "", fmt.Errorf("webhook exited: %v\n%s", p.err, p.Log())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err.Error(), nil
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, body), nil
	})
}

// Exited is closed when the webhook process ends.
func (p *localPod) Exited() <-chan struct{} { return p.done }

func (p *localPod) Log() string {
	data, _ := os.ReadFile(p.LogPath)
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	return string(data)
}

// Terminate sends SIGTERM, as the kubelet does after the preStop hook, and
// waits for the exit; it reports how long the drain took.
func (p *localPod) Terminate(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0, errors.New("not started")
	}
	select {
	case <-p.done:
		return 0, fmt.Errorf("webhook had already exited: %v", p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(start), p.err
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(start), fmt.Errorf("webhook still running %s after SIGTERM (the kubelet would SIGKILL it)", limit)
	}
}

// Kill ends the webhook at once (SIGKILL) and stops the kubelet stand-in:
// for a phase whose end is not under test, without the 5 s shutdown delay.
func (p *localPod) Kill() {
	if p.cmd != nil && p.cmd.Process != nil && p.done != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_, _ = p.Stop()
}

// Stop kills whatever still runs and stops the kubelet stand-in.
func (p *localPod) Stop() (time.Duration, error) {
	var d time.Duration
	var err error
	if p.done != nil {
		select {
		case <-p.done:
		default:
			d, err = p.Terminate(15 * time.Second)
		}
	}
	if p.kubeletCancel != nil {
		p.kubeletCancel()
		<-p.kubeletDone
	}
	return d, err
}
