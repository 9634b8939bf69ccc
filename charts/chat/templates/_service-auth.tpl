{{/*
Whether the message service authenticates its caller: "true" or "". Empty
serviceAuth.enabled follows auth.mode: on with jwt, since the user the edge names is then
what every access rule rests on.
*/}}
{{- define "chat.serviceAuth.enabled" -}}
{{- $enabled := .Values.serviceAuth.enabled }}
{{- if kindIs "invalid" $enabled }}
{{- $enabled = eq .Values.auth.mode "jwt" }}
{{- end }}
{{- if $enabled }}true{{ end }}
{{- end }}

{{/*
The Secret holding the keys: serviceAuth.existingSecret, or the chart's own.
*/}}
{{- define "chat.serviceAuth.secretName" -}}
{{- .Values.serviceAuth.existingSecret | default (include "chat.componentName" (dict "root" . "component" "service-auth")) }}
{{- end }}

{{- define "chat.serviceAuth.dir" -}}
/var/run/chat/service-auth
{{- end }}

{{/*
The Secret key each component reads: the accepted set for the message service, the one
signing key for the edge.
*/}}
{{- define "chat.serviceAuth.secretKey" -}}
{{- ternary "keys" "signing-key" (eq .component "message") }}
{{- end }}

{{/*
ConfigMap entries of one component: (dict "root" $ "component" "message"|"edge"). Only paths
of the mounted files, never a key.
*/}}
{{- define "chat.serviceAuth.env" -}}
{{- $root := .root }}
{{- if include "chat.serviceAuth.enabled" $root }}
{{- $file := printf "%s/%s" (include "chat.serviceAuth.dir" $root) (include "chat.serviceAuth.secretKey" .) }}
{{- if eq .component "message" }}
SERVICE_AUTH_KEYS_FILE: {{ $file | quote }}
SERVICE_AUTH_KEYS_RELOAD_SECONDS: {{ $root.Values.serviceAuth.reloadSeconds | quote }}
SERVICE_AUTH_MODE: {{ $root.Values.serviceAuth.mode | quote }}
{{- else }}
SERVICE_AUTH_KEY_FILE: {{ $file | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The volume and mount of one component's key file, as JSON {"volumes", "volumeMounts"}
(empty lists when off): (dict "root" $ "component" "message"|"edge"). A directory mount,
not subPath, so the kubelet's updates of the Secret reach the running pods.
*/}}
{{- define "chat.serviceAuth.podExtras" -}}
{{- $volumes := list }}
{{- $mounts := list }}
{{- if include "chat.serviceAuth.enabled" .root }}
{{- $key := include "chat.serviceAuth.secretKey" . }}
{{- $secret := dict "secretName" (include "chat.serviceAuth.secretName" .root) "items" (list (dict "key" $key "path" $key)) }}
{{- $volumes = list (dict "name" "service-auth" "secret" $secret) }}
{{- $mounts = list (dict "name" "service-auth" "mountPath" (include "chat.serviceAuth.dir" .root) "readOnly" true) }}
{{- end }}
{{- dict "volumes" $volumes "volumeMounts" $mounts | toJson }}
{{- end }}
