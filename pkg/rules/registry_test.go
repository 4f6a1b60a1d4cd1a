package rules_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

var kebab = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func TestRegistryEntries(t *testing.T) {
	all := rules.All()
	require.NotEmpty(t, all)
	seen := map[string]bool{}
	for _, rule := range all {
		r := rule.Describe()
		t.Run(r.ID, func(t *testing.T) {
			assert.Regexp(t, kebab, r.ID, "ID must be kebab-case")
			assert.False(t, seen[r.ID], "duplicate ID")
			seen[r.ID] = true

			assert.NotEmpty(t, r.Roles, "roles")
			for _, role := range r.Roles {
				assert.Contains(t, workload.Roles, role)
			}
			assert.Len(t, slices.Compact(slices.Clone(r.Roles)), len(r.Roles), "roles repeat")
			kinds := []string{workload.KindDeployment, workload.KindStatefulSet}
			if r.Related {
				kinds = []string{rules.KindPodDisruptionBudget, rules.KindHorizontalPodAutoscaler, rules.KindService, rules.KindIngress}
				assert.Len(t, r.Kinds, 1, "a related rule names the kind it judges")
			}
			for _, k := range r.Kinds {
				assert.Contains(t, kinds, k)
			}
			assert.NotEmpty(t, strings.TrimSpace(r.Section), "section")
			assert.NotEmpty(t, strings.TrimSpace(r.Summary), "summary")
			assert.NotContains(t, r.Summary, "\n", "summary is one line")

			switch typed := rule.(type) {
			case *rules.Default:
				assert.NotNil(t, typed.Fill, "a default rule needs Fill")
				assert.Equal(t, rules.ActionDefault, r.Action)
				assert.True(t, strings.HasPrefix(r.ID, "set-"), "default rules are named set-*")
			case *rules.RelatedDefault:
				assert.NotNil(t, typed.Fill, "a related default needs Fill")
				assert.True(t, r.Related)
				assert.True(t, strings.HasPrefix(r.ID, "set-"), "default rules are named set-*")
			case *rules.Check:
				assert.NotNil(t, typed.Judge, "a check needs Judge")
				assert.Contains(t, []rules.Action{rules.ActionDeny, rules.ActionWarn}, r.Action)
				assert.False(t, strings.HasPrefix(r.ID, "set-"), "set-* is for default rules")
			case *rules.RelatedCheck:
				assert.NotNil(t, typed.Judge, "a related check needs Judge")
				assert.Contains(t, []rules.Action{rules.ActionDeny, rules.ActionWarn}, r.Action)
				assert.False(t, strings.HasPrefix(r.ID, "set-"), "set-* is for default rules")
			default:
				t.Errorf("unknown rule type %T", rule)
			}

			got, ok := rules.ByID(r.ID)
			assert.True(t, ok)
			assert.Same(t, rule, got)
		})
	}
	_, ok := rules.ByID("no-such-rule")
	assert.False(t, ok)
}

func TestAllReturnsAFreshList(t *testing.T) {
	a := rules.All()
	first := a[0]
	a[0] = nil
	assert.Same(t, first, rules.All()[0])
}

func TestAppliesTo(t *testing.T) {
	// Each role's objects meet each rule only if the rule lists that role and kind.
	for _, obj := range []runtime.Object{rules.APIDeployment(), rules.APIStatefulSet(), rules.ControllerStatefulSet(), rules.ControllerDeployment()} {
		w := mustWorkload(t, obj)
		for r := range rules.Defaults() {
			want := slices.Contains(r.Roles, w.Role) && (len(r.WorkloadKinds) == 0 || slices.Contains(r.WorkloadKinds, w.Kind))
			assert.Equal(t, want, r.AppliesTo(w), "%s on %s %s", r.ID, w.Role, w.Kind)
		}
		for r := range rules.Checks() {
			want := slices.Contains(r.Roles, w.Role) && (len(r.WorkloadKinds) == 0 || slices.Contains(r.WorkloadKinds, w.Kind))
			assert.Equal(t, want, r.AppliesTo(w), "%s on %s %s", r.ID, w.Role, w.Kind)
		}
		for r := range rules.RelatedChecks() {
			assert.Equal(t, slices.Contains(r.Roles, w.Role), r.AppliesTo(r.ObjectKind, w), "%s governing %s %s", r.ID, w.Role, w.Kind)
			assert.False(t, r.AppliesTo(w.Kind, w), "%s judges a %s, not the workload", r.ID, r.ObjectKind)
		}
		for r := range rules.RelatedDefaults() {
			assert.Equal(t, slices.Contains(r.Roles, w.Role), r.AppliesTo(r.ObjectKind, w), "%s routing to %s %s", r.ID, w.Role, w.Kind)
			assert.False(t, r.AppliesTo(w.Kind, w), "%s fills a %s, not the workload", r.ID, r.ObjectKind)
		}
	}
}

func mustWorkload(t *testing.T, obj runtime.Object) *workload.Workload {
	t.Helper()
	w, ok := workload.FromObject(obj)
	require.True(t, ok)
	return w
}

// applyDefaults runs every default rule that applies, in catalog order, as the
// mutating webhook does, and returns the IDs that changed something.
func applyDefaults(t *testing.T, obj runtime.Object, p *policy.Policy) []string {
	t.Helper()
	w := mustWorkload(t, obj)
	var changed []string
	for r := range rules.Defaults() {
		if r.AppliesTo(w) && r.Fill(w, p, rules.Situation{}) {
			changed = append(changed, r.ID)
		}
	}
	return changed
}

// apiServerDefaults sets what the API server fills in before admission.
func apiServerDefaults(d *appsv1.Deployment) {
	d.Spec.Strategy = appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr(intstr.FromString("25%")),
			MaxSurge:       ptr(intstr.FromString("25%")),
		},
	}
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(30))
}

func ptr[T any](v T) *T { return &v }

func replicas3Deployment(d *appsv1.Deployment)   { d.Spec.Replicas = ptr(int32(3)) }
func replicas3StatefulSet(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(3)) }

// withRocksDBAndCheckpoints gives a minimal controller what only the user can give:
// a fast claim template mounted by the controller and a checkpoint bucket.
func withRocksDBAndCheckpoints(s *appsv1.StatefulSet) {
	s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{rules.RocksDBClaim("data", ptr("gp3"), "100Gi")}
	c := &s.Spec.Template.Spec.Containers[0]
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/laminar"}}
	c.Env = []corev1.EnvVar{{Name: "LAMINAR_CHECKPOINT_URL", Value: "s3://bucket/laminar/checkpoints"}}
}

// policies are the policy variants every defaulting property must hold under.
func policies() map[string]*policy.Policy {
	no := false
	return map[string]*policy.Policy{
		"default": policy.Default(),
		"kubernetes defaults are choices": func() *policy.Policy {
			p := policy.Default()
			p.TreatKubernetesDefaultsAsUnset = &no
			return p
		}(),
		"native sleep preStop": func() *policy.Policy {
			p := policy.Default()
			p.API.PreStop.Mode = policy.PreStopSleep
			return p
		}(),
		"other figures": func() *policy.Policy {
			p := policy.Default()
			p.API.RollingUpdate = policy.RollingUpdate{MaxUnavailable: intstr.FromInt32(1), MaxSurge: intstr.FromString("50%")}
			p.API.TerminationGracePeriodSeconds = 90
			p.API.PreStop.Seconds = 20
			p.Controller.LeaderElection.LeaseDuration.Duration *= 4
			p.Controller.LeaderElection.RenewDeadline.Duration *= 4
			p.Controller.LeaderElection.RetryPeriod.Duration *= 4
			p.Controller.ContainerName = "engine"
			p.API.ContainerName = "server"
			return p
		}(),
	}
}

// objects are the workloads the defaulting properties are checked on.
func objects() map[string]func() runtime.Object {
	return map[string]func() runtime.Object{
		"compliant api Deployment":    func() runtime.Object { return rules.APIDeployment() },
		"compliant controller":        func() runtime.Object { return rules.ControllerStatefulSet() },
		"minimal api Deployment":      func() runtime.Object { return rules.MinimalAPIDeployment(replicas3Deployment) },
		"minimal api, server-default": func() runtime.Object { return rules.MinimalAPIDeployment(replicas3Deployment, apiServerDefaults) },
		"minimal api StatefulSet": func() runtime.Object {
			d := rules.MinimalAPIDeployment(replicas3Deployment)
			return &appsv1.StatefulSet{ObjectMeta: d.ObjectMeta, Spec: appsv1.StatefulSetSpec{Replicas: d.Spec.Replicas, Template: d.Spec.Template}}
		},
		"minimal controller": func() runtime.Object {
			return rules.MinimalControllerStatefulSet(replicas3StatefulSet, withRocksDBAndCheckpoints)
		},
		"minimal controller, no storage": func() runtime.Object { return rules.MinimalControllerStatefulSet() },
	}
}

func TestDefaultsAreIdempotent(t *testing.T) {
	for pname, p := range policies() {
		for oname, build := range objects() {
			t.Run(pname+"/"+oname, func(t *testing.T) {
				obj := build()
				applyDefaults(t, obj, p)
				once := obj.DeepCopyObject()
				assert.Empty(t, applyDefaults(t, obj, p), "defaults changed something on the second pass")
				assert.Equal(t, once, obj, "the second pass changed the object")
			})
		}
	}
}

func TestDefaultsLeaveCompliantObjectsAlone(t *testing.T) {
	for name, obj := range map[string]runtime.Object{
		"api":        rules.APIDeployment(),
		"controller": rules.ControllerStatefulSet(),
	} {
		t.Run(name, func(t *testing.T) {
			before := obj.DeepCopyObject()
			assert.Empty(t, applyDefaults(t, obj, policy.Default()))
			assert.Equal(t, before, obj)
		})
	}
}

func TestCompliantObjectsPassEveryCheck(t *testing.T) {
	for name, obj := range map[string]runtime.Object{
		"api":        rules.APIDeployment(),
		"controller": rules.ControllerStatefulSet(),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, judge(t, obj, policy.Default()).Findings)
		})
	}
}

// Mutation fills everything a deny check asks for that the webhook can know: after
// the defaults, a minimal workload is admitted.
func TestDefaultsSatisfyEveryDenyCheck(t *testing.T) {
	for pname, p := range policies() {
		for oname, build := range map[string]func() runtime.Object{
			"minimal api Deployment":      func() runtime.Object { return rules.MinimalAPIDeployment(replicas3Deployment) },
			"minimal api, server-default": func() runtime.Object { return rules.MinimalAPIDeployment(replicas3Deployment, apiServerDefaults) },
			"minimal controller": func() runtime.Object {
				return rules.MinimalControllerStatefulSet(replicas3StatefulSet, withRocksDBAndCheckpoints)
			},
		} {
			t.Run(pname+"/"+oname, func(t *testing.T) {
				obj := build()
				applied := applyDefaults(t, obj, p)
				assert.NotEmpty(t, applied)
				assert.Empty(t, judge(t, obj, p).Denials(), "applied %v", applied)
			})
		}
	}
}

// Every default rule changes a minimal object of its role: none is dead.
func TestEveryDefaultRuleFires(t *testing.T) {
	fired := map[string]bool{}
	for _, obj := range []runtime.Object{
		rules.MinimalAPIDeployment(replicas3Deployment),
		rules.MinimalControllerStatefulSet(replicas3StatefulSet),
	} {
		for _, id := range applyDefaults(t, obj, policy.Default()) {
			fired[id] = true
		}
	}
	for r := range rules.Defaults() {
		assert.True(t, fired[r.ID], "%s changed nothing on a minimal object", r.ID)
	}
}

// warnCases trigger every branch of every warn rule on realistic paths: the main
// container behind a sidecar, flags deep in args, env vars late in the list.
func warnCases() map[string][]func() (runtime.Object, *policy.Policy) {
	def := policy.Default
	// behindSidecar moves the controller to containers[1] and pads its args and env.
	behindSidecar := func(args []string, env ...corev1.EnvVar) func(*appsv1.StatefulSet) {
		return func(s *appsv1.StatefulSet) {
			c := s.Spec.Template.Spec.Containers[0]
			c.Args = append([]string{"controller"}, args...)
			for len(c.Args) < 13 {
				c.Args = append([]string{c.Args[0], fmt.Sprintf("--v=%d", len(c.Args))}, c.Args[1:]...)
			}
			var padded []corev1.EnvVar
			for i := 0; len(padded)+len(env) < 10; i++ {
				padded = append(padded, corev1.EnvVar{Name: fmt.Sprintf("LAMINAR_OPT_%d", i), Value: "x"})
			}
			c.Env = append(padded, env...)
			s.Spec.Template.Spec.Containers = []corev1.Container{{Name: "envoy", Image: "envoy"}, c}
		}
	}
	url := "--checkpoint-url=s3://bucket/laminar/checkpoints"
	longer := func() *policy.Policy {
		p := policy.Default()
		p.Controller.Checkpoints.MaxInterval.Duration *= 3 // 1m30s
		return p
	}
	return map[string][]func() (runtime.Object, *policy.Policy){
		"api-liveness-aggressive": {
			func() (runtime.Object, *policy.Policy) {
				return rules.APIDeployment(func(d *appsv1.Deployment) {
					c := &d.Spec.Template.Spec.Containers[0]
					c.LivenessProbe.FailureThreshold, c.LivenessProbe.InitialDelaySeconds, c.StartupProbe = 1, 0, nil
					d.Spec.Template.Spec.Containers = append([]corev1.Container{{Name: "envoy", Image: "envoy"}}, *c)
				}), def()
			},
		},
		"api-startup-probe": {
			func() (runtime.Object, *policy.Policy) {
				return rules.APIDeployment(func(d *appsv1.Deployment) {
					c := &d.Spec.Template.Spec.Containers[0]
					c.StartupProbe = nil
					c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.FailureThreshold = 120, 30, 10
					d.Spec.Template.Spec.Containers = append([]corev1.Container{{Name: "envoy", Image: "envoy"}}, *c)
				}), def()
			},
		},
		"api-graceful-shutdown": {
			func() (runtime.Object, *policy.Policy) {
				return rules.APIDeployment(func(d *appsv1.Deployment) {
					d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(10))
					d.Spec.Template.Spec.Containers[0].Lifecycle = nil
				}), def()
			},
		},
		"replicas-recommended": {
			func() (runtime.Object, *policy.Policy) {
				return rules.APIDeployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(2)) }), def()
			},
			func() (runtime.Object, *policy.Policy) {
				p := def()
				p.Controller.Replicas = policy.Replicas{Min: 100, Recommended: 1000}
				return rules.ControllerStatefulSet(func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(999)) }), p
			},
		},
		"api-kind-deployment": {
			func() (runtime.Object, *policy.Policy) { return rules.APIStatefulSet(), def() },
		},
		"controller-checkpoint-url-missing": {
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar(nil)), def()
			},
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar(nil, rules.SecretEnv("LAMINAR_CHECKPOINT_URL"))), def()
			},
		},
		"exemption-expired": {
			func() (runtime.Object, *policy.Policy) {
				return rules.APIDeployment(func(d *appsv1.Deployment) {
					d.Annotations = map[string]string{"ha.laminar.io/exempt": "replicas-min", "ha.laminar.io/exempt-reason": "r",
						"ha.laminar.io/exempt-until": judgedAt.Add(-time.Hour).In(time.FixedZone("", 3600)).Format(time.RFC3339)}
				}), def()
			},
		},
		"exemption-unknown-rule": {
			func() (runtime.Object, *policy.Policy) {
				return rules.APIDeployment(func(d *appsv1.Deployment) {
					d.Annotations = map[string]string{"ha.laminar.io/exempt": "replica-min,controler-storage-class,api-zone-sprea", "ha.laminar.io/exempt-reason": "r"}
				}), def()
			},
		},
		"controller-shell-command": {
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar(nil), func(s *appsv1.StatefulSet) {
					c := &s.Spec.Template.Spec.Containers[1]
					c.Command, c.Args = []string{"/bin/sh", "-ec", "exec laminar controller --leader-elect=true"}, nil
				}), def()
			},
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar(nil), func(s *appsv1.StatefulSet) {
					c := &s.Spec.Template.Spec.Containers[1]
					c.Command = []string{"bash"}
					c.Args = append([]string{"-o", "pipefail", "-c", "laminar \"$@\""}, c.Args...)
				}), def()
			},
		},
		"controller-checkpoint-interval": {
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar([]string{url, "--checkpoint-interval=5m"})), def()
			},
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar([]string{url, "--checkpoint-interval=5m"})), longer()
			},
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar([]string{url, "--checkpoint-interval=often"})), longer()
			},
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar([]string{url},
					corev1.EnvVar{Name: "LAMINAR_CHECKPOINT_INTERVAL", Value: "10m"})), longer()
			},
			func() (runtime.Object, *policy.Policy) {
				return rules.ControllerStatefulSet(behindSidecar([]string{url},
					corev1.EnvVar{Name: "LAMINAR_CHECKPOINT_INTERVAL", Value: "often"})), longer()
			},
		},
	}
}

// Warn rules become admission warnings "<field>: [rule-id] <detail>" of at most
// validate.MaxWarningLength characters; a longer one is cut off mid-sentence.
func TestWarningsFit(t *testing.T) {
	cases := warnCases()
	// These need a cluster view: TestClusterWarningsFit in cluster_rules_test.go.
	clusterAware := map[string]bool{"pdb-missing": true, "hpa-static-replicas": true, "cluster-zones": true, "controller-hosts": true}
	for r := range rules.Checks() {
		if r.Action != rules.ActionWarn {
			continue
		}
		if clusterAware[r.ID] {
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			builds, ok := cases[r.ID]
			require.True(t, ok, "add cases for warn rule %s to warnCases", r.ID)
			for i, build := range builds {
				obj, p := build()
				n := 0
				for _, v := range judge(t, obj, p).Findings {
					if v.RuleID != r.ID {
						continue
					}
					n++
					full := v.Err.Field + ": " + v.Err.Detail
					assert.True(t, strings.HasPrefix(v.Err.Detail, "["+r.ID+"] "))
					assert.LessOrEqual(t, utf8.RuneCountInString(full), validate.MaxWarningLength,
						"case %d: warning is %d characters: %q", i, utf8.RuneCountInString(full), full)
					assert.Equal(t, full, validate.Warning(v.Err), "case %d: warning was cut", i)
				}
				assert.Positive(t, n, "case %d does not trigger %s", i, r.ID)
			}
		})
	}
	for id := range cases {
		r, ok := rules.ByID(id)
		assert.True(t, ok && r.Describe().Action == rules.ActionWarn, "%s in warnCases is not a warn rule", id)
	}
	for id := range clusterAware {
		r, ok := rules.ByID(id)
		require.True(t, ok && r.Describe().Action == rules.ActionWarn, "%s is not a warn rule", id)
		for _, build := range [][]func() (runtime.Object, *policy.Policy){cases["replicas-recommended"], cases["api-kind-deployment"]} {
			obj, p := build[0]()
			for _, f := range judge(t, obj, p).Findings {
				assert.NotEqual(t, id, f.RuleID, "%s fires without a cluster view: give it warnCases", id)
			}
		}
	}
}

// judgedAt is the time these tests judge at, far from any run's date.
var judgedAt = time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)

// judge runs the validating engine on obj as a CREATE in a deny-mode namespace
// with no cluster view.
func judge(t *testing.T, obj runtime.Object, p *policy.Policy) validate.Decision {
	t.Helper()
	c := validate.Context{Mode: policy.ModeDeny}
	c.Ctx, c.Now = context.Background(), judgedAt
	return validate.Judge(mustWorkload(t, obj), p, c)
}

func TestTheTablesWalkTheCatalogInOrder(t *testing.T) {
	var ids []string
	for r := range rules.Defaults() {
		ids = append(ids, r.ID)
	}
	for r := range rules.RelatedDefaults() {
		ids = append(ids, r.ID)
	}
	for r := range rules.Checks() {
		ids = append(ids, r.ID)
	}
	for r := range rules.RelatedChecks() {
		ids = append(ids, r.ID)
	}
	var want []string
	for _, r := range rules.All() {
		want = append(want, r.Describe().ID)
	}
	assert.Equal(t, want, ids)
	n := 0
	for range rules.Checks() {
		n++
		break
	}
	assert.Equal(t, 1, n, "stopping early is honoured")
}
