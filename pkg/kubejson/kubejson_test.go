package kubejson_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/laminar/ha-webhook/pkg/kubejson"
)

func TestUnmarshalDeployment(t *testing.T) {
	cases := []struct {
		name string
		in   string
		// errs are the substrings the error must hold; none means no error.
		errs []string
		// check looks at what was decoded, when there is no error.
		check func(t *testing.T, d *appsv1.Deployment)
	}{
		{
			name: "plain",
			in:   `{"kind":"Deployment","spec":{"replicas":2}}`,
			check: func(t *testing.T, d *appsv1.Deployment) {
				assert.Equal(t, "Deployment", d.Kind)
				assert.Equal(t, ptr.To[int32](2), d.Spec.Replicas)
			},
		},
		{
			name: "duplicate at the top",
			in:   `{"kind":"Deployment","kind":"StatefulSet"}`,
			errs: []string{`duplicate field "kind"`},
		},
		{
			name: "duplicate nested",
			in:   `{"spec":{"replicas":1,"replicas":3}}`,
			errs: []string{`duplicate field "spec.replicas"`},
		},
		{
			name: "duplicate in a list",
			in:   `{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x","name":"c"}]}}}}`,
			errs: []string{`duplicate field "spec.template.spec.containers[1].name"`},
		},
		{
			name: "duplicate map key",
			in:   `{"metadata":{"labels":{"app":"a","app":"b"}}}`,
			errs: []string{`duplicate field "metadata.labels.app"`},
		},
		{
			name: "case variant at the top, of an embedded field",
			in:   `{"kind":"Deployment","Kind":"StatefulSet"}`,
			errs: []string{`field "Kind" duplicates "kind"`},
		},
		{
			name: "case variant nested",
			in:   `{"spec":{"replicas":1,"Replicas":3}}`,
			errs: []string{`field "spec.Replicas" duplicates "spec.replicas"`},
		},
		{
			name: "case variant before the field",
			in:   `{"spec":{"REPLICAS":3,"replicas":1}}`,
			errs: []string{`field "spec.REPLICAS" duplicates "spec.replicas"`},
		},
		{
			name: "case variant in a list",
			in:   `{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b","Name":"c"}]}}}}`,
			errs: []string{`field "spec.template.spec.containers[1].Name" duplicates "spec.template.spec.containers[1].name"`},
		},
		{
			name: "every problem is named",
			in:   `{"spec":{"replicas":1,"Replicas":3,"paused":true,"paused":false},"Spec":{}}`,
			errs: []string{`duplicate field "spec.paused"`, `field "spec.Replicas" duplicates "spec.replicas"`, `field "Spec" duplicates "spec"`},
		},
		{
			name: "a case variant alone is an unknown field, ignored as the API server does",
			in:   `{"spec":{"Replicas":3}}`,
			check: func(t *testing.T, d *appsv1.Deployment) {
				assert.Nil(t, d.Spec.Replicas)
			},
		},
		{
			name: "unknown fields are accepted",
			in:   `{"spec":{"replicas":2,"newField":{"x":1},"template":{"spec":{"futureThing":[1]}}},"extra":true}`,
			check: func(t *testing.T, d *appsv1.Deployment) {
				assert.Equal(t, ptr.To[int32](2), d.Spec.Replicas)
			},
		},
		{
			name: "members of values that decode themselves are not fields",
			in:   `{"metadata":{"creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":"25%"}}}}`,
			check: func(t *testing.T, d *appsv1.Deployment) {
				assert.Equal(t, "25%", d.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
			},
		},
		{
			name: "malformed",
			in:   `{"spec":{"replicas":1,}}`,
			errs: []string{"invalid character '}'"},
		},
		{
			name: "not JSON",
			in:   ``,
			errs: []string{"unexpected end of JSON input"},
		},
		{
			name: "a value of the wrong type",
			in:   `{"spec":{"replicas":"three"}}`,
			errs: []string{"json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d appsv1.Deployment
			err := kubejson.Unmarshal([]byte(c.in), &d)
			if len(c.errs) == 0 {
				require.NoError(t, err)
				if c.check != nil {
					c.check(t, &d)
				}
				return
			}
			require.Error(t, err)
			for _, want := range c.errs {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestUnmarshalUntyped(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want any
		err  string
	}{
		{name: "ints stay ints", in: `{"a":1,"b":[9007199254740993],"c":1.5,"d":-0}`,
			want: map[string]any{"a": int64(1), "b": []any{int64(9007199254740993)}, "c": 1.5, "d": int64(0)}},
		{name: "names are names", in: `{"a":1,"A":2}`, want: map[string]any{"a": int64(1), "A": int64(2)}},
		{name: "duplicate", in: `{"a":{"b":1,"b":2}}`, err: `duplicate field "a.b"`},
		{name: "malformed", in: `{"a":`, err: "unexpected end of JSON input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got any
			err := kubejson.Unmarshal([]byte(c.in), &got)
			if c.err != "" {
				assert.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// TestUnmarshalManyUnknownFields: names a newer API server may send are never
// errors, however many; a case variant among them still is.
func TestUnmarshalManyUnknownFields(t *testing.T) {
	in := `{"spec":{"replicas":1`
	for i := range 150 {
		in += `,"future` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1`
	}
	var d appsv1.Deployment
	require.NoError(t, kubejson.Unmarshal([]byte(in+`}}`), &d))
	assert.ErrorContains(t, kubejson.Unmarshal([]byte(in+`,"rePlicas":2}}`), &d), `field "spec.rePlicas" duplicates "spec.replicas"`)
}
