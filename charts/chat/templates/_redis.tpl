{{/*
A context for calling the redis-cluster subchart's named templates from this chart, so
names and addresses are computed in one place.
*/}}
{{- define "chat.redis.context" -}}
{{- dict "Values" (index .Values "redis-cluster") "Release" .Release "Chart" (dict "Name" "redis-cluster") | toJson }}
{{- end }}

{{/*
The in-chart Redis Cluster's full name.
*/}}
{{- define "chat.redis.fullname" -}}
{{- include "redis-cluster.fullname" (include "chat.redis.context" . | fromJson) }}
{{- end }}

{{/*
Selector labels of the in-chart Redis Cluster's nodes.
*/}}
{{- define "chat.redis.selectorLabels" -}}
{{- include "redis-cluster.selectorLabels" (include "chat.redis.context" . | fromJson) }}
{{- end }}

{{/*
Labels of every pod of the in-chart Redis Cluster: its nodes and its bootstrap Job.
*/}}
{{- define "chat.redis.releaseLabels" -}}
app.kubernetes.io/name: {{ include "redis-cluster.name" (include "chat.redis.context" . | fromJson) }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The Secret and key of the Redis password as JSON ({} when there is none).
*/}}
{{- define "chat.redis.passwordSecret" -}}
{{- if (index .Values "redis-cluster").enabled }}
{{- $context := include "chat.redis.context" . | fromJson }}
{{- dict "name" (include "redis-cluster.secretName" $context) "key" (include "redis-cluster.secretKey" $context) | toJson }}
{{- else if .Values.externalRedis.existingSecret }}
{{- dict "name" .Values.externalRedis.existingSecret "key" .Values.externalRedis.existingSecretPasswordKey | toJson }}
{{- else if .Values.externalRedis.password }}
{{- dict "name" (include "chat.componentName" (dict "root" . "component" "redis")) "key" "redis-password" | toJson }}
{{- else }}
{{- dict | toJson }}
{{- end }}
{{- end }}

{{/*
The Redis settings of every service that uses Redis (the message service; the edge when a
rate limit is on), checked: REDIS_URL or REDIS_CLUSTER_NODES, the user, and TLS.
*/}}
{{- define "chat.redis.env" -}}
{{- $external := .Values.externalRedis }}
{{- if (index .Values "redis-cluster").enabled }}
{{- if or $external.url $external.clusterNodes }}
{{- fail "externalRedis is set while redis-cluster.enabled is true: set redis-cluster.enabled=false to use an existing Redis" }}
{{- end }}
{{- $nodes := include "redis-cluster.nodeAddresses" (include "chat.redis.context" . | fromJson) }}
REDIS_CLUSTER_NODES: {{ splitList " " $nodes | join "," | quote }}
{{- else if and $external.url $external.clusterNodes }}
{{- fail "externalRedis: set url (one server) or clusterNodes (a cluster), not both" }}
{{- else if $external.url }}
REDIS_URL: {{ $external.url | quote }}
{{- else if $external.clusterNodes }}
REDIS_CLUSTER_NODES: {{ join "," $external.clusterNodes | quote }}
{{- else }}
{{- fail "redis-cluster.enabled is false: set externalRedis.url or externalRedis.clusterNodes" }}
{{- end }}
{{- with $external.username }}
REDIS_USERNAME: {{ . | quote }}
{{- end }}
{{- include "chat.redis.tlsEnv" . }}
{{- end }}

{{/*
REDIS_TLS and REDIS_TLS_CA_FILE of an external Redis, checked.
*/}}
{{- define "chat.redis.tlsEnv" -}}
{{- $tls := .Values.externalRedis.tls }}
{{- $ca := include "chat.redis.caSource" . | fromJson }}
{{- if (index .Values "redis-cluster").enabled }}
{{- if or $tls.enabled $ca.kind }}
{{- fail "externalRedis.tls is set while redis-cluster.enabled is true: the in-chart Redis Cluster serves no TLS" }}
{{- end }}
{{- else }}
{{- if and $ca.kind (not $tls.enabled) (not (hasPrefix "rediss://" .Values.externalRedis.url)) }}
{{- fail "externalRedis.tls: a CA is set but TLS is off; set externalRedis.tls.enabled=true or use a rediss:// url" }}
{{- end }}
{{- if $tls.enabled }}
REDIS_TLS: "true"
{{- end }}
{{- if $ca.kind }}
REDIS_TLS_CA_FILE: {{ include "chat.redis.caFile" . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Where the CA bundle of an external Redis comes from, as JSON: {"kind": "secret" or "configMap",
"name", "key"}, or {} when the image's public CAs are trusted.
*/}}
{{- define "chat.redis.caSource" -}}
{{- $tls := .Values.externalRedis.tls }}
{{- if and $tls.caSecret $tls.caConfigMap }}
{{- fail "externalRedis.tls: set caSecret or caConfigMap, not both" }}
{{- else if $tls.caSecret }}
{{- dict "kind" "secret" "name" $tls.caSecret "key" $tls.caKey | toJson }}
{{- else if $tls.caConfigMap }}
{{- dict "kind" "configMap" "name" $tls.caConfigMap "key" $tls.caKey | toJson }}
{{- else }}
{{- dict | toJson }}
{{- end }}
{{- end }}

{{/*
The path of the mounted CA bundle (REDIS_TLS_CA_FILE).
*/}}
{{- define "chat.redis.caFile" -}}
/var/run/chat/redis-ca/ca.crt
{{- end }}

{{/*
What a pod needs to reach Redis beyond its ConfigMap, as JSON: {"env": the password as a
secretKeyRef (EnvVar list), "volumes" and "volumeMounts": the CA bundle of an external Redis}.
*/}}
{{- define "chat.redis.podExtras" -}}
{{- $secret := include "chat.redis.passwordSecret" . | fromJson }}
{{- $env := list }}
{{- if $secret.name }}
{{- $env = list (dict "name" "REDIS_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" $secret.name "key" $secret.key))) }}
{{- end }}
{{- $volumes := list }}
{{- $mounts := list }}
{{- $ca := include "chat.redis.caSource" . | fromJson }}
{{- if and $ca.kind (not (index .Values "redis-cluster").enabled) }}
{{- $items := list (dict "key" $ca.key "path" (base (include "chat.redis.caFile" .))) }}
{{- $source := dict "name" $ca.name "items" $items }}
{{- if eq $ca.kind "secret" }}
{{- $source = dict "secretName" $ca.name "items" $items }}
{{- end }}
{{- $volumes = list (dict "name" "redis-ca" $ca.kind $source) }}
{{- $mounts = list (dict "name" "redis-ca" "mountPath" (dir (include "chat.redis.caFile" .)) "readOnly" true) }}
{{- end }}
{{- dict "env" $env "volumes" $volumes "volumeMounts" $mounts | toJson }}
{{- end }}
