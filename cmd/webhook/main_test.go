package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommands(t *testing.T) {
	// No cluster access, whatever the caller's environment has.
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badPolicy, []byte("apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\napi:\n  replicas:\n    min: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	typoPolicy := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typoPolicy, []byte("apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\napi:\n  replicaz: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "no command", args: nil, code: exitUsage, stderr: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderr: `unknown command "frobnicate"`},
		{name: "version", args: []string{"version"}, code: exitOK, stdout: "laminar-ha-webhook dev"},
		{name: "help", args: []string{"--help"}, code: exitOK, stdout: "serve"},
		{name: "bad flag", args: []string{"serve", "--no-such-flag"}, code: exitUsage, stderr: "flag provided but not defined"},
		{name: "stray argument", args: []string{"serve", "extra"}, code: exitUsage, stderr: "serve takes no arguments"},
		{name: "bad log format", args: []string{"serve", "--log-format", "xml"}, code: exitUsage, stderr: "--log-format"},
		{name: "invalid policy value", args: []string{"serve", "--policy", badPolicy, "--log-format", "json"}, code: exitFail, stderr: "api.replicas.min"},
		{name: "unknown policy field", args: []string{"serve", "--policy", typoPolicy, "--log-format", "json"}, code: exitFail, stderr: "replicaz"},
		{name: "secure metrics asked for without cluster access", args: []string{"serve", "--metrics-secure=true", "--log-format", "json"},
			code: exitUsage, stderr: "--metrics-secure needs cluster access"},
		{name: "missing policy file", args: []string{"serve", "--policy", filepath.Join(dir, "nope.yaml"), "--log-format", "json"}, code: exitFail, stderr: "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), c.args, &out, &errOut)
			assert.Equal(t, c.code, code, "stderr: %s", errOut.String())
			assert.Contains(t, out.String(), c.stdout)
			assert.Contains(t, errOut.String(), c.stderr)
		})
	}
}
