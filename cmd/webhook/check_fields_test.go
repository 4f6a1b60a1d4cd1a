package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/report"
)

// TestCheckRefusesAFieldWrittenTwice: encoding/json would read "Replicas: 3" as
// the replica count, the API server ignores it and stores 1. check must not
// judge either reading; it names the field instead, as an input error.
func TestCheckRefusesAFieldWrittenTwice(t *testing.T) {
	const api = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: laminar-api
spec:
  selector:
    matchLabels: {app: laminar-api}
  template:
    metadata:
      labels: {app: laminar-api}
    spec:
      containers:
        - name: api
          image: ghcr.io/laminar/laminar:1.4.0
`
	cases := []struct {
		name, spec, message string
	}{
		{"a case variant", "  replicas: 1\n  Replicas: 3\n", `field "spec.Replicas" duplicates "spec.replicas"`},
		{"the same key", "  replicas: 1\n  replicas: 3\n", `line 9: key "replicas" already set in map`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "api.yaml")
			// The replica lines go where spec begins, after the selector's line.
			text := strings.Replace(api, "spec:\n  selector:", "spec:\n"+c.spec+"  selector:", 1)
			text = "# rendered\n---\n" + text
			require.NoError(t, os.WriteFile(path, []byte(text), 0o600))

			code, stdout, stderr := cli(t, nil, "check", "-o", "json", "-f", path)
			assert.Equal(t, exitUsage, code, stderr)
			var rep report.Report
			require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
			require.Len(t, rep.Errors, 1)
			assert.Equal(t, 1, rep.Errors[0].Document)
			assert.Contains(t, rep.Errors[0].Message, c.message)
			assert.Empty(t, rep.Objects, "an object read two ways is not judged")
			assert.Contains(t, stderr, path+":3: document 1: ")
			assert.Contains(t, stderr, c.message)
		})
	}
}
