{{/* Expand the name of the chart. */}}
{{- define "shapes.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "shapes.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "shapes.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "shapes.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shapes.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "shapes.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{ include "shapes.selectorLabels" . }}
{{- end -}}

{{/* The apiVersion for Deployments: apps/v1 where served. */}}
{{- define "shapes.deployment.apiVersion" -}}
{{- if semverCompare ">=1.9-0" .Capabilities.KubeVersion.GitVersion -}}
apps/v1
{{- else -}}
extensions/v1beta1
{{- end -}}
{{- end -}}

{{/* The apiVersion for the worker's StatefulSet (never updated). */}}
{{- define "shapes.statefulset.apiVersion" -}}
apps/v1beta2
{{- end -}}
