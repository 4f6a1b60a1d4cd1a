package main

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSendTakesOnlyTheExpectedAnswer: every answer is checked — its UID, its
// verdict, whether it carries a patch, and that it is an AdmissionReview at
// all — so a faster reading of answers cannot let a wrong one count.
func TestSendTakesOnlyTheExpectedAnswer(t *testing.T) {
	const uid = "0f6d5d8a-7c9e-4a8e-9d3f-1a2b3c4d5e6f"
	patched := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"` + uid +
		`","allowed":true,"patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMvcmVwbGljYXMiLCJ2YWx1ZSI6M31d","patchType":"JSONPatch","warnings":["w"]}}`
	cases := []struct {
		name, answer string
		noop         bool
		wantErr      string // empty: accepted
	}{
		{name: "the expected patched answer", answer: patched},
		{name: "a patch when the no-op must allow as it is", answer: patched, noop: true, wantErr: "patch=true"},
		{name: "no patch where one is due", answer: `{"response":{"uid":"` + uid + `","allowed":true}}`, wantErr: "patch=false"},
		{name: "an empty patch", answer: `{"response":{"uid":"` + uid + `","allowed":true,"patch":""}}`, wantErr: "patch=false"},
		{name: "a denial", answer: `{"response":{"uid":"` + uid + `","allowed":false,"patch":"W10="}}`, wantErr: "allowed=false"},
		{name: "another request's answer", answer: strings.Replace(patched, uid, "other", 1), wantErr: `uid "other"`},
		{name: "a webhook error", answer: `{"response":{"uid":"` + uid + `","allowed":true,"patch":"W10=","status":{"code":500}}}`, wantErr: "webhook error 500"},
		{name: "a patch that is not base64", answer: `{"response":{"uid":"` + uid + `","allowed":true,"patch":"not base64!"}}`, wantErr: "unreadable"},
		{name: "no response", answer: `{"kind":"AdmissionReview"}`, wantErr: "unreadable"},
		{name: "not JSON", answer: `<html>`, wantErr: "unreadable"},
		{name: "a member named twice", answer: `{"response":{"uid":"` + uid + `","uid":"` + uid + `","allowed":true,"patch":"W10="}}`, wantErr: "unreadable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(tc.answer))
			}))
			defer srv.Close()
			ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
			c, err := newClient(ca, 1)
			require.NoError(t, err)
			r := &Review{Name: "mutate CREATE api-minimal", Path: "/mutate", UID: uid, Body: []byte(`{}`), WantAllowed: true, WantPatch: true}
			err = send(context.Background(), c, Target{Name: "t", URL: srv.URL, Noop: tc.noop}, r)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}
