// Package manifest reads Kubernetes objects written as YAML or JSON and writes
// them back as YAML, for fixtures, golden files and offline checks.
package manifest

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Decode reads one YAML or JSON document. Workload kinds come back typed; the
// GVK is returned for every document so callers can skip what they do not judge.
// A key written twice in one mapping is an error, as it is to kubectl.
func Decode(doc []byte) (runtime.Object, schema.GroupVersionKind, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, schema.GroupVersionKind{}, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if err := duplicateKeys(doc, 1); err != nil {
		return nil, schema.GroupVersionKind{}, err
	}
	return decodeJSON(js)
}

// decodeJSON is Decode for a document already in JSON.
func decodeJSON(js []byte) (runtime.Object, schema.GroupVersionKind, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	// A field written twice is left to the typed decode, which sees the whole
	// object, once apiVersion and kind are read: kinds this build does not judge
	// are not its business.
	if err := kubejson.Unmarshal(js, &tm); err != nil && (tm.APIVersion == "" || tm.Kind == "") {
		return nil, schema.GroupVersionKind{}, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return nil, schema.GroupVersionKind{}, fmt.Errorf("not a Kubernetes object: apiVersion and kind are required")
	}
	gvk := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
	obj, err := workload.Decode(gvk, js)
	if err != nil {
		return nil, gvk, err
	}
	return obj, gvk, nil
}

// EncodeYAML writes a typed object as YAML with its apiVersion and kind.
func EncodeYAML(obj runtime.Object, gvk schema.GroupVersionKind) ([]byte, error) {
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(js)
}
