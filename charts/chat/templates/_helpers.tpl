{{/*
Expand the name of the chart.
*/}}
{{- define "chat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name, truncated to 63 characters (DNS names).
If the release name contains the chart name it is used as the full name.
*/}}
{{- define "chat.fullname" -}}
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
{{- define "chat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "chat.labels" -}}
helm.sh/chart: {{ include "chat.chart" . }}
{{ include "chat.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "chat.name" . }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "chat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The name of one component's resources: (dict "root" $ "component" "edge").
*/}}
{{- define "chat.componentName" -}}
{{- printf "%s-%s" (include "chat.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component }}
{{- end }}

{{/*
Labels of one component's resources: (dict "root" $ "component" "edge").
*/}}
{{- define "chat.componentLabels" -}}
{{ include "chat.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Selector labels of one component's pods: (dict "root" $ "component" "edge").
*/}}
{{- define "chat.componentSelectorLabels" -}}
{{ include "chat.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
A service image reference: (dict "root" $ "image" .Values.edge.image).
*/}}
{{- define "chat.image" -}}
{{- $repository := .image.repository }}
{{- with .root.Values.imageRegistry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}
{{- end }}
{{- printf "%s:%s" $repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/*
The ServiceAccount of the pods.
*/}}
{{- define "chat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chat.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Seconds Kubernetes waits after SIGTERM before SIGKILL: the preStop pause, the longest drain,
and a margin. (dict "shutdown" .Values.edge.shutdown)
*/}}
{{- define "chat.terminationGracePeriodSeconds" -}}
{{- add .shutdown.preStopSleepSeconds (div (add .shutdown.timeoutMs 999) 1000) 5 }}
{{- end }}

{{/*
The preStop hook: a pause while endpoints and load balancers stop routing to the pod.
Kubernetes 1.30+ sleeps natively; older clusters run the image's sleep binary.
*/}}
{{- define "chat.preStop" -}}
{{- if semverCompare ">=1.30-0" .root.Capabilities.KubeVersion.Version }}
sleep:
  seconds: {{ .shutdown.preStopSleepSeconds }}
{{- else }}
exec:
  command: ["sleep", "{{ .shutdown.preStopSleepSeconds }}"]
{{- end }}
{{- end }}

{{/*
The OTel environment shared by both services: (dict "root" $ "component" "edge").
*/}}
{{- define "chat.otelEnv" -}}
OTEL_SERVICE_NAME: {{ printf "chat-%s" .component | quote }}
{{- with .root.Values.otel }}
{{- if .endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .endpoint | quote }}
{{- with .protocol }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ . | quote }}
{{- end }}
{{- else }}
OTEL_TRACES_EXPORTER: "none"
{{- end }}
OTEL_TRACES_SAMPLER: {{ .tracesSampler | quote }}
OTEL_TRACES_SAMPLER_ARG: {{ .tracesSamplerArg | quote }}
{{- end }}
{{- end }}

{{/*
OTEL_RESOURCE_ATTRIBUTES of a pod, with its own name and namespace (needs POD_NAME and
POD_NAMESPACE defined before it).
*/}}
{{- define "chat.otelResourceAttributes" -}}
{{- $attributes := list "k8s.pod.name=$(POD_NAME)" "k8s.namespace.name=$(POD_NAMESPACE)" }}
{{- range $key, $value := .Values.otel.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $attributes }}
{{- end }}

{{/*
Whether NetworkPolicies are rendered: "true" or "". Unset, they follow auth.mode: the message
service believes the `chat-user` header only because no pod but the edge can reach it.
*/}}
{{- define "chat.networkPolicy.enabled" -}}
{{- $enabled := .Values.networkPolicy.enabled }}
{{- if kindIs "invalid" $enabled }}
{{- $enabled = eq .Values.auth.mode "jwt" }}
{{- end }}
{{- if $enabled }}true{{ end }}
{{- end }}

{{/*
Whether the edge uses Redis, for rate limits shared by its replicas: "true" or "".
*/}}
{{- define "chat.edge.usesRedis" -}}
{{- $limits := .Values.edge.rateLimit }}
{{- if or (gt (int $limits.sendPerMinute) 0) (gt (int $limits.pullPerMinute) 0) }}true{{ end }}
{{- end }}

{{/*
TRUSTED_PROXY_HOPS of the edge: the configured number, else 1 behind the chart's Ingress
(the ingress controller appends the client's address to X-Forwarded-For) and 0 without it.
*/}}
{{- define "chat.edge.trustedProxyHops" -}}
{{- $hops := .Values.edge.config.trustedProxyHops }}
{{- if kindIs "invalid" $hops }}
{{- $hops = ternary 1 0 .Values.edge.ingress.enabled }}
{{- end }}
{{- $hops }}
{{- end }}
