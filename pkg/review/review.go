// Package review serves an admission.Webhook with one decoding pass over the
// AdmissionReview instead of controller-runtime's three.
//
// controller-runtime's admission.Webhook.ServeHTTP reads a review with the
// runtime scheme's universal deserializer: a whole encoding/json pass to find
// apiVersion and kind, a whole sigs.k8s.io/json pass to decode, and a syntax
// check before each — half of what a webhook that answers at once spends per
// request. Handler decodes the review as the API server writes it in one pass
// of encoding/json/v2 and hands it to the same Webhook.Handle (panic recovery,
// its metric, the request logger, the UID), and writes the answer as
// admission.Webhook does. Any review that pass does not read exactly as
// controller-runtime would — see Decode — goes to admission.Webhook.ServeHTTP
// itself, so its answers, errors included, stay controller-runtime's.
package review

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"unsafe"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// Kind is the kind of every AdmissionReview.
const Kind = "AdmissionReview"

// The AdmissionReview versions the API server sends; a webhook configuration
// names them in admissionReviewVersions, and the answer repeats the request's.
var (
	V1      = admissionv1.SchemeGroupVersion.WithKind(Kind)
	V1beta1 = admissionv1beta1.SchemeGroupVersion.WithKind(Kind)
)

// envelope is an AdmissionReview as the API server sends one: apiVersion,
// kind and the request, nothing else.
type envelope struct {
	APIVersion string                        `json:"apiVersion"`
	Kind       string                        `json:"kind"`
	Request    *admissionv1.AdmissionRequest `json:"request"`
}

// exact: names match case-sensitively (as sigs.k8s.io/json matches them), a
// name written twice is an error (controller-runtime would take the last),
// and so is a name the types do not have (it would ignore it; its apiVersion
// and kind are even found case-insensitively). Invalid UTF-8, which it
// replaces, is an error too. So whatever this pass accepts, controller-runtime
// reads the same way.
var exact = jsonv2.RejectUnknownMembers(true)

// Decode reads body as controller-runtime's admission.Webhook reads it, in one
// pass, and reports whether it could: ok is false for anything but a
// well-formed JSON AdmissionReview of admission.k8s.io/v1 or v1beta1 with
// apiVersion, kind and request only, each once, holding only fields
// k8s.io/api knows, each once. gvk is the review's version, which the answer
// must repeat.
//
// The object and oldObject the request carries are body's own bytes, not
// copies: body must outlive the request and not change.
//
// When objects gives a typed object for the request's kind (read before the
// object, as the API server writes it), the object is decoded into it in the
// same pass, with the same options (see Object); a value that does not fit it
// fails the pass.
func Decode(body []byte, objects func(schema.GroupVersionKind) runtime.Object) (req admission.Request, gvk schema.GroupVersionKind, ok bool) {
	env := envelope{Request: &req.AdmissionRequest}
	if objects != nil {
		req.Object.Object = &pending{kind: &req.Kind, objects: objects}
	}
	if jsonv2.Unmarshal(body, &env, exact, inPlace) != nil || env.Kind != Kind {
		return admission.Request{}, schema.GroupVersionKind{}, false
	}
	switch env.APIVersion {
	case V1.GroupVersion().String():
		gvk = V1
	case V1beta1.GroupVersion().String():
		gvk = V1beta1
	default:
		return admission.Request{}, schema.GroupVersionKind{}, false
	}
	if env.Request == nil {
		// "request": null; controller-runtime leaves the request empty too.
		return admission.Request{}, gvk, true
	}
	if _, unread := req.Object.Object.(*pending); unread {
		req.Object.Object = nil // no object member
	}
	for _, raw := range []*[]byte{&req.Object.Raw, &req.OldObject.Raw, &req.Options.Raw} {
		if *raw == nil {
			continue
		}
		if !within(*raw, body) {
			return admission.Request{}, schema.GroupVersionKind{}, false
		}
		*raw = (*raw)[:len(*raw):len(*raw)] // an append cannot write into the body
	}
	return req, gvk, true
}

// inPlace reads a runtime.RawExtension as its UnmarshalJSON does — the
// value's bytes, nothing for null — without copying them: the object and
// oldObject are most of a review. Decoding from a byte slice, the decoder
// hands out values within it; Decode checks that they are (within), and
// reads nothing a decoder might have handed out of its own buffer.
var inPlace = jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, re *runtime.RawExtension) error {
	p, _ := re.Object.(*pending)
	re.Object = nil
	if p != nil && dec.PeekKind() == '{' {
		gvk := schema.GroupVersionKind(*p.kind)
		if obj := p.objects(gvk); obj != nil {
			// Decoding from a byte slice, the unread buffer is the body from
			// the offset on: the object's bytes are what the decoder consumed.
			unread, start := dec.UnreadBuffer(), dec.InputOffset()
			if err := jsonv2.UnmarshalDecode(dec, obj, typedOnly); err != nil {
				return err
			}
			re.Raw = bytes.TrimLeft(unread[:dec.InputOffset()-start], " \t\r\n:")
			re.Object = decoded{Object: obj, gvk: gvk}
			return nil
		}
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if v.Kind() != 'n' {
		re.Raw = v
	}
	return nil
}))

// typedOnly decodes an object without the review's own unmarshalers: with
// any in effect, encoding/json/v2 looks every value's type up among them (a
// sync.Map load each: 7 % of the object's decoding in the server under load),
// and an object holds none of the types they are for.
var typedOnly = jsonv2.WithUnmarshalers(nil)

// pending marks the request's object, before the pass reaches it, with what
// the pass needs to decode it typed: the request's kind, as far as it has been
// read, and the objects of Decode.
type pending struct {
	kind    *metav1.GroupVersionKind
	objects func(schema.GroupVersionKind) runtime.Object
}

func (*pending) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (p *pending) DeepCopyObject() runtime.Object { return p }

// decoded is a request's object as the pass decoded it, for kind gvk.
type decoded struct {
	runtime.Object
	gvk schema.GroupVersionKind
}

// Object is the typed object the review's pass decoded from re's bytes for
// kind gvk, if it did: the same object, field for field, as
// encoding/json/v2 decodes those bytes into a zero object with only known
// members allowed, each once, names matched exactly (kubejson's fast path).
// A copy of the request (DeepCopy) holds no such object.
func Object(re runtime.RawExtension, gvk schema.GroupVersionKind) (runtime.Object, bool) {
	d, ok := re.Object.(decoded)
	if !ok || d.gvk != gvk {
		return nil, false
	}
	return d.Object, true
}

// within reports whether sub lies in b's memory. Only addresses are compared
// (Go does not move heap objects); nothing is read or written through them.
func within(sub, b []byte) bool {
	if len(sub) == 0 || len(b) == 0 {
		return false
	}
	s, lo := uintptr(unsafe.Pointer(unsafe.SliceData(sub))), uintptr(unsafe.Pointer(unsafe.SliceData(b))) //nolint:gosec // G103: addresses compared, never dereferenced
	return s >= lo && s+uintptr(len(sub)) <= lo+uintptr(len(b))
}

// admissionLog is admission.Webhook's own logger (its default, named once, as it
// names it), not built again for every request.
var admissionLog = logf.Log.WithName("admission")

// Handler serves Webhook over HTTP (see the package doc).
type Handler struct {
	Webhook *admission.Webhook
	// Objects gives the typed object a request's object of a kind is decoded
	// into within the review's pass (see Object), nil for kinds left as bytes;
	// nil leaves every object as bytes.
	Objects func(schema.GroupVersionKind) runtime.Object
}

// held is a request body read in whole before the handler runs (the server's
// limiter does so), whose bytes Handler reads without copying them.
type held struct {
	*bytes.Reader
	body []byte
}

func (held) Close() error { return nil }

// Hold sets r's body to body, read already, so that Handler can decode it
// where it is.
func Hold(r *http.Request, body []byte) {
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		// controller-runtime tells an empty body by NoBody.
		r.Body = http.NoBody
		return
	}
	r.Body = held{Reader: bytes.NewReader(body), body: body}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, isHeld := r.Body.(held)
	if !isHeld || r.Header.Get("Content-Type") != "application/json" {
		h.Webhook.ServeHTTP(w, r)
		return
	}
	req, gvk, ok := Decode(b.body, h.Objects)
	if !ok {
		h.Webhook.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if h.Webhook.WithContextFunc != nil {
		ctx = h.Webhook.WithContextFunc(ctx, r)
	}
	if v := admissionLog.V(5); v.Enabled() {
		h.logConstructor()(admissionLog, &req).V(5).Info("received request")
	}
	resp := h.Webhook.Handle(ctx, req)
	Write(w, resp, gvk)
}

func (h *Handler) logConstructor() func(logr.Logger, *admission.Request) logr.Logger {
	if h.Webhook.LogConstructor != nil {
		return h.Webhook.LogConstructor
	}
	return admission.DefaultLogConstructor
}

// Write writes resp as an AdmissionReview of version gvk, as
// admission.Webhook writes its answers: encoding/json, and when writing fails
// (a broken connection), one attempt at a 500 answer.
func Write(w io.Writer, resp admission.Response, gvk schema.GroupVersionKind) {
	ar := admissionv1.AdmissionReview{Response: &resp.AdmissionResponse}
	ar.SetGroupVersionKind(gvk)
	if err := json.NewEncoder(w).Encode(ar); err != nil {
		admissionLog.Error(err, "unable to encode and write the response")
		serverError := admission.Errored(http.StatusInternalServerError, err)
		if err = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{Response: &serverError.AdmissionResponse}); err != nil {
			admissionLog.Error(err, "still unable to encode and write the InternalServerError response")
		}
		return
	}
	if v := admissionLog.V(5); v.Enabled() {
		res := ar.Response
		if res.Result != nil {
			v = v.WithValues("code", res.Result.Code, "reason", res.Result.Reason, "message", res.Result.Message)
		}
		v.Info("wrote response", "requestID", res.UID, "allowed", res.Allowed)
	}
}
