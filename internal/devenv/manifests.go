package devenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ManifestFiles are the files of deploy/manifests the local environment installs.
var ManifestFiles = []string{"service.yaml", "webhooks.yaml", "enforcement.yaml", "metrics.yaml"}

// LoadManifests decodes deploy/manifests/{service,webhooks,enforcement,metrics}.yaml strictly (an
// unknown or duplicated field is an error) into typed objects.
func LoadManifests(root string) ([]client.Object, error) {
	var objs []client.Object
	for _, name := range ManifestFiles {
		path := filepath.Join(root, "deploy", "manifests", name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		got, err := DecodeObjects(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objs = append(objs, got...)
	}
	return objs, nil
}

// DecodeObjects decodes a multi-document YAML stream of built-in kinds into typed
// objects, rejecting unknown fields. Empty documents are skipped.
func DecodeObjects(data []byte) ([]client.Object, error) {
	return DecodeObjectsWith(scheme.Scheme, data)
}

// DecodeObjectsWith is DecodeObjects for the kinds of s (built-in kinds plus, say,
// cert-manager's).
func DecodeObjectsWith(s *runtime.Scheme, data []byte) ([]client.Object, error) {
	strictDecoder := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []client.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := strictDecoder.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		co, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("document %d: %T is not an object", i, obj)
		}
		objs = append(objs, co)
	}
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// localize applies the only local changes to the manifests: the Service points
// at localhost:<webhook port>, and every webhook calls that port and trusts the
// generated CA.
func (e *Env) localize(objs []client.Object) error {
	port := int32(e.WebhookPort)
	checkRef := func(kind, name string, s *admissionregistrationv1.ServiceReference) error {
		if s == nil || s.Namespace != Namespace || s.Name != ServiceName {
			return fmt.Errorf("%s webhook %s: clientConfig must reference Service %s/%s", kind, name, Namespace, ServiceName)
		}
		return nil
	}
	var seenSvc, seenMut, seenVal bool
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			if o.Name != ServiceName || o.Namespace != Namespace {
				continue
			}
			seenSvc = true
			o.Spec = corev1.ServiceSpec{
				Type:         corev1.ServiceTypeExternalName,
				ExternalName: "localhost",
				Ports: []corev1.ServicePort{{
					Name: "https", Protocol: corev1.ProtocolTCP,
					Port: port, TargetPort: intstr.FromInt32(port),
				}},
			}
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			seenMut = true
			for i := range o.Webhooks {
				w := &o.Webhooks[i]
				if err := checkRef("mutating", w.Name, w.ClientConfig.Service); err != nil {
					return err
				}
				w.ClientConfig.Service.Port = &port
				w.ClientConfig.CABundle = e.Certs.CACert
			}
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			seenVal = true
			for i := range o.Webhooks {
				w := &o.Webhooks[i]
				if err := checkRef("validating", w.Name, w.ClientConfig.Service); err != nil {
					return err
				}
				w.ClientConfig.Service.Port = &port
				w.ClientConfig.CABundle = e.Certs.CACert
			}
		}
	}
	if !seenSvc || !seenMut || !seenVal {
		return fmt.Errorf("deploy/manifests must hold the Service %s/%s and both webhook configurations (service %v, mutating %v, validating %v)",
			Namespace, ServiceName, seenSvc, seenMut, seenVal)
	}
	return nil
}

// install creates the webhook's namespace and the localized manifests.
func (e *Env) install(ctx context.Context) error {
	objs, err := LoadManifests(e.RepoRoot)
	if err != nil {
		return err
	}
	if err := e.localize(objs); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := e.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", Namespace, err)
	}
	for _, o := range objs {
		if err := createOrReplace(ctx, e.Client, o); err != nil {
			return fmt.Errorf("%T %s: %w", o, client.ObjectKeyFromObject(o), err)
		}
	}
	if err := e.installMetricsReader(ctx); err != nil {
		return err
	}
	e.installed = true
	e.logf("devenv: installed %d objects from deploy/manifests (Service -> localhost:%d)", len(objs), e.WebhookPort)
	return nil
}

func createOrReplace(ctx context.Context, c client.Client, o client.Object) error {
	err := c.Create(ctx, o)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur := o.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(o), cur); err != nil {
		return err
	}
	o.SetResourceVersion(cur.GetResourceVersion())
	return c.Update(ctx, o)
}
