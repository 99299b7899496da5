{{- define "sources.name" -}}
{{ .Chart.Name }}-{{ .Release.Name }}
{{- end -}}

{{- define "sources.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* policy/v1 where served, else the beta. */}}
{{- define "sources.pdb.apiVersion" -}}
{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end -}}
{{- end -}}
