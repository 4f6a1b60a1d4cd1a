package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Object is one Kubernetes object read from a document: the document itself, or
// one item of a List.
type Object struct {
	// Item is the object's 1-based position in its document's List; 0 when the
	// document is the object.
	Item int
	// JSON is the object as written, in JSON: what kubectl would send to the API
	// server and an admission webhook would receive.
	JSON []byte
	GVK  schema.GroupVersionKind
	// Typed is the decoded object for the kinds the webhook judges (apps/v1
	// Deployment and StatefulSet); nil for every other kind.
	Typed runtime.Object
	// Err is set when the object has a judged kind but cannot be decoded as it.
	Err error
}

// Content is what a document holds.
type Content struct {
	// JSON is the whole document in JSON; nil for an empty document.
	JSON []byte
	// List is set when the document is a List (kind List, or any kind ending in
	// "List", with an items array); Objects are then its items.
	List bool
	// Objects are the Kubernetes objects of the document. A document that holds no
	// object (no apiVersion or kind: a Helm values file, a CI config) has none.
	Objects []Object
}

// Objects reads the document. The error is for a document that is not YAML or
// JSON at all, or that holds objects and writes a key twice in one mapping; an
// item that cannot be decoded carries its own Object.Err, so one bad item does
// not hide the others.
func (d Document) Objects() (Content, error) {
	js, err := yaml.YAMLToJSON(d.Text)
	if err != nil {
		return Content{}, fmt.Errorf("not YAML or JSON: %w", err)
	}
	c, err := ObjectsFromJSON(js)
	if err == nil && len(c.Objects) > 0 {
		err = duplicateKeys(d.Text, d.Line)
	}
	if err != nil {
		return Content{}, err
	}
	return c, nil
}

// ObjectsFromJSON reads a document already converted to JSON; see Document.Objects.
func ObjectsFromJSON(js []byte) (Content, error) {
	var top any
	if err := kubejson.Unmarshal(js, &top); err != nil {
		if syntax, _ := sigsjson.SyntaxErrorOffset(err); syntax {
			return Content{}, fmt.Errorf("not YAML or JSON: %w", err)
		}
		return Content{}, err
	}
	m, ok := top.(map[string]any)
	if !ok {
		if top == nil {
			return Content{}, nil
		}
		return Content{JSON: js}, nil
	}
	apiVersion, kind := typeMeta(m)
	if apiVersion == "" || kind == "" {
		return Content{JSON: js}, nil
	}
	if items, ok := m["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		c := Content{JSON: js, List: true}
		// A typed list (DeploymentList) may leave apiVersion and kind out of its
		// items, as the API server's own list responses do.
		itemKind := strings.TrimSuffix(kind, "List")
		for i, it := range items {
			im, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if v, k := typeMeta(im); (v == "" || k == "") && kind != "List" {
				if v == "" {
					im["apiVersion"] = apiVersion
				}
				if k == "" {
					im["kind"] = itemKind
				}
			}
			ij, err := json.Marshal(im)
			if err != nil {
				return Content{}, err
			}
			if o, ok := decodeObject(ij); ok {
				o.Item = i + 1
				c.Objects = append(c.Objects, o)
			}
		}
		return c, nil
	}
	c := Content{JSON: js}
	if o, ok := decodeObject(js); ok {
		c.Objects = append(c.Objects, o)
	}
	return c, nil
}

// duplicateKeys reports the keys the YAML text writes twice in one mapping,
// with lines counted from firstLine. The conversion to JSON keeps the last of
// them silently, where kubectl refuses the document.
func duplicateKeys(text []byte, firstLine int) error {
	_, err := yaml.YAMLToJSONStrict(text)
	if err == nil {
		return nil
	}
	var te *yamlv2.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("not YAML or JSON: %w", err)
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = e
		if num, rest, ok := strings.Cut(strings.TrimPrefix(e, "line "), ":"); ok {
			if n, err := strconv.Atoi(num); err == nil {
				msgs[i] = "line " + strconv.Itoa(firstLine+n-1) + ":" + rest
			}
		}
	}
	return fmt.Errorf("duplicate key: %s", strings.Join(msgs, "; "))
}

func typeMeta(m map[string]any) (apiVersion, kind string) {
	apiVersion, _ = m["apiVersion"].(string)
	kind, _ = m["kind"].(string)
	return apiVersion, kind
}

// decodeObject decodes one object's JSON; ok is false when it has no apiVersion or kind.
func decodeObject(js []byte) (Object, bool) {
	obj, gvk, err := decodeJSON(js)
	var unsupported workload.ErrUnsupportedKind
	switch {
	case errors.As(err, &unsupported):
		return Object{JSON: js, GVK: gvk}, true
	case err != nil && gvk.Empty():
		return Object{}, false
	}
	return Object{JSON: js, GVK: gvk, Typed: obj, Err: err}, true
}
