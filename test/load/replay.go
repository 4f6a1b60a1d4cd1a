package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// The patch replay variant: the no-op binary with --patches, answering each
// kind's mutating call with the patch laminar-ha-webhook gives that kind's
// minimal object. kube-apiserver then does all it does for our patch —
// applies it, decodes and defaults the grown object, records the changes in
// managedFields, sends the bigger object to the validating call — while the
// webhook answers as fast as the no-op does. Its overhead over the no-op is
// what the patch costs the API server; ours over it, what computing the patch
// and judging cost us.

const (
	replayLabel   = "perf.laminar.io/replay"
	replayService = "laminar-ha-replay"
)

// webhookPatches asks the running webhook for its patch of each object as the
// API server would send it on create: the object is created (dry run) in
// nsPlain, which no webhook judges, so that the API server fills in what it
// fills in, and that result, moved to nsJudged, is posted to the webhook's
// /mutate as an AdmissionReview. The patches are by kind; objects must be of
// different kinds, each of which the webhook patches.
func webhookPatches(ctx context.Context, env *devenv.Env, objs []client.Object, nsPlain, nsJudged string) (map[string][]byte, error) {
	c, err := newClient(env.Certs.CACert, 1)
	if err != nil {
		return nil, err
	}
	defer c.CloseIdleConnections()
	out := map[string][]byte{}
	for i, o := range objs {
		obj, err := dryRun(ctx, env, o, nsPlain)
		if err != nil {
			return nil, fmt.Errorf("patch replay: create %s in %s: %w", o.GetName(), nsPlain, err)
		}
		gvk, err := apiutil.GVKForObject(obj, env.Client.Scheme())
		if err != nil {
			return nil, err
		}
		if _, seen := out[gvk.Kind]; seen {
			return nil, fmt.Errorf("patch replay: two objects of kind %s", gvk.Kind)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		obj.SetNamespace(nsJudged)
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		body, err := reviewBody(fmt.Sprintf("00000000-0000-4000-9000-%012d", i), admissionv1.Create, gvk.Kind, raw, nil)
		if err != nil {
			return nil, err
		}
		patch, err := askPatch(ctx, c, fmt.Sprintf("https://localhost:%d/mutate", env.WebhookPort), body)
		if err != nil {
			return nil, fmt.Errorf("patch replay: %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		out[gvk.Kind] = patch
	}
	return out, nil
}

// askPatch posts one review and returns the JSON patch of its answer, which
// must allow the object and patch it.
func askPatch(ctx context.Context, c *http.Client, url string, body []byte) ([]byte, error) {
	status, data, err := post(ctx, c, url, body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", status, data)
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &ar); err != nil || ar.Response == nil {
		return nil, fmt.Errorf("unreadable answer %q: %v", data, err)
	}
	r := ar.Response
	switch {
	case !r.Allowed:
		return nil, fmt.Errorf("not allowed: %v", r.Result)
	case len(r.Patch) == 0 || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch:
		return nil, fmt.Errorf("no JSON patch in the answer %s", data)
	}
	return r.Patch, nil
}

// writePatches writes each kind's patch as dir/KIND.json, what the no-op's
// --patches reads.
func writePatches(dir string, patches map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for kind, p := range patches {
		if err := os.WriteFile(filepath.Join(dir, kind+".json"), p, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// sameAdmittedSpecs creates (dry run) each object in both namespaces and
// requires the same spec back: the replayed patch does what the webhook does.
func sameAdmittedSpecs(ctx context.Context, env *devenv.Env, objs []client.Object, nsReplay, nsWebhook string) error {
	for _, o := range objs {
		var got [2]client.Object
		for i, ns := range []string{nsReplay, nsWebhook} {
			obj, err := dryRun(ctx, env, o, ns)
			if err != nil {
				return fmt.Errorf("patch replay: create %s in %s: %w", o.GetName(), ns, err)
			}
			got[i] = obj
		}
		if d := specDiff(got[0], got[1], 5); len(d) > 0 {
			return fmt.Errorf("patch replay: %s is admitted with another spec than the webhook gives it, at %s", o.GetName(), strings.Join(d, ", "))
		}
	}
	return nil
}
