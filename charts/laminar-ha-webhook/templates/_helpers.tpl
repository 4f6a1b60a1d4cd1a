{{/*
The chart's single source of truth is deploy/manifests (files/manifests is a
link to it, resolved when the chart is packaged): every template loads the
objects of one manifest file and changes only what a value asks for, so a change
to the manifests reaches both install paths.

laminar.manifest takes (list $ "file.yaml") and returns its objects as a YAML
list. The manifests spell the namespace laminar-ha-system wherever the install's
namespace belongs (metadata, subjects, clientConfig, DNS names, the
inject-ca-from annotation, the excluded namespaces); each occurrence becomes the
release namespace.
*/}}
{{- define "laminar.manifest" -}}
{{- $root := index . 0 -}}
{{- $file := index . 1 -}}
{{- $text := $root.Files.Get (printf "files/manifests/%s" $file) -}}
{{- if not $text -}}
{{- fail (printf "files/manifests/%s is missing or empty: the chart must be built from the repository (files/manifests links to deploy/manifests)" $file) -}}
{{- end -}}
{{- $text = replace "laminar-ha-system" $root.Release.Namespace $text -}}
{{- $objs := list -}}
{{- range regexSplit "(?m)^---[ \t]*$" $text -1 -}}
{{- $o := fromYaml . -}}
{{- if hasKey $o "Error" -}}
{{- fail (printf "files/manifests/%s: %s" $file $o.Error) -}}
{{- end -}}
{{- if $o.kind -}}
{{- $objs = append $objs $o -}}
{{- end -}}
{{- end -}}
{{- toYaml $objs -}}
{{- end -}}

{{/* laminar.emit writes one object as its own YAML document. */}}
{{- define "laminar.emit" -}}
---
{{ toYaml . }}
{{ end -}}

{{/* laminar.labels are the labels every object of deploy/manifests carries. */}}
{{- define "laminar.labels" -}}
app.kubernetes.io/name: laminar-ha-webhook
app.kubernetes.io/part-of: laminar
{{- end -}}

{{/* laminar.image is repository:tag, or repository@digest when a digest is given. */}}
{{- define "laminar.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* laminar.selfManaged is "true" in the certificates mode without cert-manager. */}}
{{- define "laminar.selfManaged" -}}
{{- if eq .Values.certificates.mode "selfManaged" }}true{{ end -}}
{{- end -}}
