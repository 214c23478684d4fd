{{/* The release's name prefix: "tokentap" for a release named tokentap. */}}
{{- define "tokentap.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tokentap.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include with (list . "sensor") */}}
{{- define "tokentap.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "tokentap.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tokentap.sensorServiceAccount" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-sensor" (include "tokentap.fullname" .)) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tokentap.secretName" -}}
{{- default (printf "%s-secrets" (include "tokentap.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "tokentap.collectorURL" -}}
{{- printf "http://%s-collector.%s.svc:%d" (include "tokentap.fullname" .) .Release.Namespace (int .Values.collector.port) -}}
{{- end -}}
