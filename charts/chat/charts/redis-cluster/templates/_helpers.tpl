{{/*
Expand the name of the chart.
*/}}
{{- define "redis-cluster.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name, truncated to 63 characters (DNS names).
If the release name contains the chart name it is used as the full name.
*/}}
{{- define "redis-cluster.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version as used by the chart label.
*/}}
{{- define "redis-cluster.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels (without a component: the nodes and the bootstrap Job add theirs).
*/}}
{{- define "redis-cluster.labels" -}}
helm.sh/chart: {{ include "redis-cluster.chart" . }}
app.kubernetes.io/name: {{ include "redis-cluster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels of the Redis nodes.
*/}}
{{- define "redis-cluster.selectorLabels" -}}
app.kubernetes.io/name: {{ include "redis-cluster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node
{{- end }}

{{/*
The StatefulSet's name: at most 52 characters, because Kubernetes labels each pod with the
name plus an 11-character revision hash, and label values end at 63.
*/}}
{{- define "redis-cluster.statefulSetName" -}}
{{- include "redis-cluster.fullname" . | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
The headless Service that gives every node a stable DNS name.
*/}}
{{- define "redis-cluster.headlessName" -}}
{{- printf "%s-headless" (include "redis-cluster.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
The Secret that holds the password.
*/}}
{{- define "redis-cluster.secretName" -}}
{{- default (include "redis-cluster.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "redis-cluster.secretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretPasswordKey }}{{ else }}redis-password{{ end }}
{{- end }}

{{/*
Number of pods: masters and their replicas.
*/}}
{{- define "redis-cluster.nodeCount" -}}
{{- mul .Values.cluster.masters (add 1 .Values.cluster.replicasPerMaster) }}
{{- end }}

{{/*
The announced DNS name of every node, one "host:port" per node, space-separated.
The parent chart calls this too, with (dict "Values" <these values> "Release" .Release "Chart" (dict "Name" "redis-cluster")).
*/}}
{{- define "redis-cluster.nodeAddresses" -}}
{{- $statefulSet := include "redis-cluster.statefulSetName" . }}
{{- $headless := include "redis-cluster.headlessName" . }}
{{- $nodes := list }}
{{- range $i := until (int (include "redis-cluster.nodeCount" .)) }}
{{- $nodes = append $nodes (printf "%s-%d.%s.%s.svc.%s:%d" $statefulSet $i $headless $.Release.Namespace $.Values.clusterDomain (int $.Values.service.port)) }}
{{- end }}
{{- join " " $nodes }}
{{- end }}

{{/*
maxmemory: cluster.maxmemory as given, or cluster.maxmemoryPercent of resources.limits.memory in
bytes. A limit must be a whole number with an optional binary or decimal suffix (512Mi, 2G).
*/}}
{{- define "redis-cluster.maxmemory" -}}
{{- if .Values.cluster.maxmemory }}
{{- .Values.cluster.maxmemory }}
{{- else }}
{{- $limit := toString (dig "limits" "memory" "" .Values.resources) }}
{{- $number := regexFind "^[0-9]+" $limit }}
{{- $suffix := trimPrefix $number $limit }}
{{- $units := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 }}
{{- if or (not $number) (not (hasKey $units $suffix)) }}
{{- fail (printf "redis-cluster: cannot derive maxmemory from resources.limits.memory %q; set cluster.maxmemory (e.g. \"400mb\")" $limit) }}
{{- end }}
{{- div (mul (int64 $number) (index $units $suffix) .Values.cluster.maxmemoryPercent) 100 }}
{{- end }}
{{- end }}
