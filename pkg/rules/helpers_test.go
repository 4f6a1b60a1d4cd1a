package rules

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestFindFlag(t *testing.T) {
	cPath := field.NewPath("c")
	tests := []struct {
		name       string
		command    []string
		args       []string
		takesValue bool
		found      bool
		want       flag
	}{
		{name: "--flag=value", args: []string{"--name=v"}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("args").Index(0)}},
		{name: "-flag=value", args: []string{"x", "-name=v"}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("args").Index(1)}},
		{name: "--flag value", args: []string{"--name", "v"}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("args").Index(0)}},
		{name: "-flag value in the command", command: []string{"/bin/x", "-name", "v"}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("command").Index(1)}},
		{name: "a boolean never takes the next word", args: []string{"--name", "false"}, takesValue: false, found: true,
			want: flag{Path: cPath.Child("args").Index(0)}},
		{name: "bare flag", args: []string{"-name"}, found: true, want: flag{Path: cPath.Child("args").Index(0)}},
		{name: "value flag at the end has no value", args: []string{"--name"}, takesValue: true, found: true,
			want: flag{Path: cPath.Child("args").Index(0)}},
		{name: "empty value", args: []string{"--name="}, takesValue: true, found: true,
			want: flag{HasValue: true, Path: cPath.Child("args").Index(0)}},
		{name: "value containing =", args: []string{"--name=a=b"}, takesValue: true, found: true,
			want: flag{Value: "a=b", HasValue: true, Path: cPath.Child("args").Index(0)}},
		{name: "args win over the command", command: []string{"--name=cmd"}, args: []string{"--name=arg"}, takesValue: true, found: true,
			want: flag{Value: "arg", HasValue: true, Path: cPath.Child("args").Index(0)}},
		{name: "the last occurrence wins", args: []string{"--name=1", "--name=2"}, takesValue: true, found: true,
			want: flag{Value: "2", HasValue: true, Path: cPath.Child("args").Index(1)}},
		{name: "a longer flag is another flag", args: []string{"--name-other=v", "--names"}, takesValue: true},
		{name: "a positional word is not a flag", args: []string{"name", "name=v"}, takesValue: true},
		{name: "three dashes is not the flag", args: []string{"---name=v"}, takesValue: true},
		{name: "absent", takesValue: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &corev1.Container{Command: tc.command, Args: tc.args}
			got, ok := findFlag(c, cPath, "name", tc.takesValue)
			assert.Equal(t, tc.found, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// In a shell-wrapped command the script's text is searched, and the find is
// marked as read from a script.
func TestFindFlagInAShellScript(t *testing.T) {
	cPath := field.NewPath("c")
	tests := []struct {
		name       string
		command    []string
		args       []string
		takesValue bool
		found      bool
		want       flag
	}{
		{name: "--flag=value in the script", command: []string{"sh", "-c", "exec laminar --name=v --other"}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("command").Index(2), Script: true}},
		{name: "--flag value, quoted", command: []string{"sh", "-c", `laminar --name "v"; true`}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("command").Index(2), Script: true}},
		{name: "a quoted --flag=value", command: []string{"sh", "-c", `laminar '--name=a b'`}, takesValue: true, found: true,
			want: flag{Value: "a", HasValue: true, Path: cPath.Child("command").Index(2), Script: true}},
		{name: "a bare boolean on its own line", command: []string{"bash", "-c", "set -e\nlaminar \\\n  --name\n"}, found: true,
			want: flag{Path: cPath.Child("command").Index(2), Script: true}},
		{name: "the script in args", command: []string{"sh", "-c"}, args: []string{"laminar --name=v"}, takesValue: true, found: true,
			want: flag{Value: "v", HasValue: true, Path: cPath.Child("args").Index(0), Script: true}},
		{name: "words after the script are its $0, $1", command: []string{"sh", "-c", "laminar"}, args: []string{"--name=v"}, takesValue: true},
		{name: "words before the script are the shell's", command: []string{"sh", "-name", "-c", "laminar"}, takesValue: true},
		{name: "absent from the script", command: []string{"sh", "-c", "laminar --names=v"}, takesValue: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &corev1.Container{Command: tc.command, Args: tc.args}
			got, ok := findFlag(c, cPath, "name", tc.takesValue)
			assert.Equal(t, tc.found, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBoolFlagValue(t *testing.T) {
	for in, want := range map[string][2]bool{
		"true": {true, true}, "1": {true, true}, "t": {true, true}, "TRUE": {true, true},
		"false": {false, true}, "0": {false, true}, "F": {false, true},
		"yes": {false, false}, "": {false, false},
	} {
		v, valid := boolFlagValue(flag{Value: in, HasValue: true})
		assert.Equal(t, want, [2]bool{v, valid}, in)
	}
	v, valid := boolFlagValue(flag{})
	assert.True(t, v && valid, "a bare boolean flag is true")
}

func TestPreStopDelay(t *testing.T) {
	tests := []struct {
		name string
		h    *corev1.LifecycleHandler
		want int64
		ok   bool
	}{
		{"native sleep", sleepPreStop(7), 7, true},
		{"shell sleep", execPreStop("/bin/sh", "-c", "sleep 10"), 10, true},
		{"direct sleep", execPreStop("sleep", "3"), 3, true},
		{"busybox path", execPreStop("/bin/sleep", "4"), 4, true},
		{"last sleep counts", execPreStop("/bin/sh", "-c", "sleep 1; sleep 5"), 5, true},
		{"sleep with a unit", execPreStop("/bin/sh", "-c", "sleep 10s"), 0, false},
		{"no sleep", execPreStop("/bin/sh", "-c", "kill -TERM 1"), 0, false},
		{"sleep without seconds", execPreStop("sleep"), 0, false},
		{"empty exec", execPreStop(), 0, false},
		{"httpGet", &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/"}}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := preStopDelay(tc.h)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// selectsPodsAsTheLibrary is selectsPods as metav1's selector answers it.
func selectsPodsAsTheLibrary(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

// selectsPods MUST answer as the selector metav1.LabelSelectorAsSelector
// builds, its shortcuts included: on random selectors and pod labels over keys
// and values both valid and invalid, with every operator and an unknown one.
func TestSelectsPodsAgreesWithLabelSelectorAsSelector(t *testing.T) {
	keys := []string{"app", "tier", "laminar.io/role", "bad key", "-x", "", "a/b/c", strings.Repeat("k", 64)}
	values := []string{"laminar-api", "laminar-controller", "", "x", "bad value!", strings.Repeat("v", 64)}
	ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn,
		metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist, "Gt"}
	rnd := rand.New(rand.NewPCG(18, 3))
	pick := func(from []string) string { return from[rnd.IntN(len(from))] }
	someLabels := func(n int) map[string]string {
		if n == 0 && rnd.IntN(2) == 0 {
			return nil
		}
		m := map[string]string{}
		for range n {
			m[pick(keys)] = pick(values)
		}
		return m
	}
	agreed, selected := 0, 0
	for range 20000 {
		var sel *metav1.LabelSelector
		if rnd.IntN(20) > 0 {
			sel = &metav1.LabelSelector{MatchLabels: someLabels(rnd.IntN(3))}
			for range rnd.IntN(3) {
				e := metav1.LabelSelectorRequirement{Key: pick(keys), Operator: ops[rnd.IntN(len(ops))]}
				for range rnd.IntN(3) {
					e.Values = append(e.Values, pick(values))
				}
				sel.MatchExpressions = append(sel.MatchExpressions, e)
			}
		}
		pod := someLabels(rnd.IntN(4))
		if sel != nil && rnd.IntN(2) == 0 {
			// Pods that carry the matchLabels, as a workload's own do.
			if pod == nil {
				pod = map[string]string{}
			}
			for k, v := range sel.MatchLabels {
				pod[k] = v
			}
		}
		want := selectsPodsAsTheLibrary(sel, pod)
		require.Equal(t, want, selectsPods(sel, pod), "selector %+v, pod labels %v", sel, pod)
		agreed++
		if want {
			selected++
		}
	}
	// The input reaches both answers, so the agreement says something.
	assert.Greater(t, selected, 300)
	assert.Greater(t, agreed-selected, 500)
}
