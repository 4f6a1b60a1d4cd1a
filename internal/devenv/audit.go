package devenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// auditPolicy records request metadata — including admission webhooks' audit
// annotations — for the kinds the webhook judges, and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: apps
        resources: [deployments, deployments/scale, statefulsets, statefulsets/scale]
      - group: policy
        resources: [poddisruptionbudgets]
      - group: autoscaling
        resources: [horizontalpodautoscalers]
      - group: ""
        resources: [services]
      - group: networking.k8s.io
        resources: [ingresses]
  - level: None
`

// enableAudit makes kube-apiserver write its audit log to WorkDir/audit.log, so
// users of make run and the e2e suite can read why each request was admitted.
func (e *Env) enableAudit(setFlag func(name, value string)) error {
	policyPath := filepath.Join(e.WorkDir, "audit-policy.yaml")
	if err := os.WriteFile(policyPath, []byte(auditPolicy), 0o600); err != nil {
		return fmt.Errorf("audit policy: %w", err)
	}
	e.AuditLogPath = filepath.Join(e.WorkDir, "audit.log")
	setFlag("audit-policy-file", policyPath)
	setFlag("audit-log-path", e.AuditLogPath)
	setFlag("audit-log-format", "json")
	// Batching would delay entries; tests read the log right after a request.
	setFlag("audit-log-mode", "blocking")
	return nil
}

// AuditEvent is the part of an audit log entry the tests read.
type AuditEvent struct {
	AuditID   string `json:"auditID"`
	Stage     string `json:"stage"`
	Verb      string `json:"verb"`
	ObjectRef struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	Annotations map[string]string `json:"annotations"`
}

// AuditEvents reads every entry of the audit log written so far.
func (e *Env) AuditEvents() ([]AuditEvent, error) {
	f, err := os.Open(e.AuditLogPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		out = append(out, ev)
	}
	return out, sc.Err()
}
