{{/*
Whether the edge requires bearer tokens: "true" or "".
*/}}
{{- define "chat.auth.jwt" -}}
{{- if eq .Values.auth.mode "jwt" }}true{{ end }}
{{- end }}

{{/*
The Secret and key of the HS256 shared secret as JSON ({} with a JWKS, or with auth off).
*/}}
{{- define "chat.auth.secretSource" -}}
{{- $secret := .Values.auth.jwt.secret }}
{{- if not (include "chat.auth.jwt" .) }}
{{- dict | toJson }}
{{- else if $secret.existingSecret }}
{{- dict "name" $secret.existingSecret "key" $secret.existingSecretKey | toJson }}
{{- else if $secret.value }}
{{- dict "name" (include "chat.componentName" (dict "root" . "component" "auth")) "key" "jwt-secret" | toJson }}
{{- else }}
{{- dict | toJson }}
{{- end }}
{{- end }}

{{/*
The path of the mounted shared secret (AUTH_JWT_SECRET_FILE).
*/}}
{{- define "chat.auth.secretFile" -}}
/var/run/chat/auth/jwt-secret
{{- end }}

{{/*
The edge's AUTH_* settings, checked, so that a setup the edge would refuse at startup fails
the install instead. The shared secret is never among them: only the path of its file.
*/}}
{{- define "chat.auth.env" -}}
{{- $jwt := .Values.auth.jwt }}
AUTH_MODE: {{ .Values.auth.mode | quote }}
{{- if include "chat.auth.jwt" . }}
{{- if not $jwt.issuer }}
{{- fail "auth.mode=jwt needs auth.jwt.issuer: the `iss` every token must carry" }}
{{- end }}
{{- if not $jwt.audience }}
{{- fail "auth.mode=jwt needs auth.jwt.audience: the `aud` values a token may carry (a list)" }}
{{- end }}
{{- $sources := list }}
{{- if $jwt.jwksUrl }}{{ $sources = append $sources "auth.jwt.jwksUrl" }}{{ end }}
{{- if $jwt.secret.existingSecret }}{{ $sources = append $sources "auth.jwt.secret.existingSecret" }}{{ end }}
{{- if $jwt.secret.value }}{{ $sources = append $sources "auth.jwt.secret.value" }}{{ end }}
{{- if ne (len $sources) 1 }}
{{- fail (printf "auth.mode=jwt needs exactly one source of signing keys: auth.jwt.jwksUrl (a JWKS), auth.jwt.secret.existingSecret or auth.jwt.secret.value (an HS256 shared secret); %s" (ternary "none is set" (printf "%s are all set" (join ", " $sources)) (empty $sources))) }}
{{- end }}
{{- if and $jwt.secret.value (lt (len $jwt.secret.value) 32) }}
{{- fail "auth.jwt.secret.value: the HS256 shared secret must be at least 32 bytes" }}
{{- end }}
{{- range $jwt.algorithms }}
{{- if and $jwt.jwksUrl (hasPrefix "HS" .) }}
{{- fail (printf "auth.jwt.algorithms: %s needs a shared secret; a JWKS accepts RS*, PS*, ES* and EdDSA only" .) }}
{{- else if and (not $jwt.jwksUrl) (not (hasPrefix "HS" .)) }}
{{- fail (printf "auth.jwt.algorithms: %s needs a JWKS; a shared secret accepts HS256, HS384 and HS512 only" .) }}
{{- end }}
{{- end }}
AUTH_ISSUER: {{ $jwt.issuer | quote }}
AUTH_AUDIENCE: {{ join "," $jwt.audience | quote }}
{{- if $jwt.jwksUrl }}
AUTH_JWKS_URL: {{ $jwt.jwksUrl | quote }}
{{- else }}
AUTH_JWT_SECRET_FILE: {{ include "chat.auth.secretFile" . | quote }}
{{- end }}
{{- with $jwt.algorithms }}
AUTH_ALGORITHMS: {{ join "," . | quote }}
{{- end }}
AUTH_CLOCK_SKEW_SECONDS: {{ $jwt.clockSkewSeconds | quote }}
AUTH_MAX_TOKEN_LIFETIME_SECONDS: {{ $jwt.maxTokenLifetimeSeconds | quote }}
{{- end }}
{{- end }}

{{/*
The volume and mount of the shared secret, as JSON {"volumes", "volumeMounts"} (empty lists
without one). Only the one key is projected into the pod.
*/}}
{{- define "chat.auth.podExtras" -}}
{{- $source := include "chat.auth.secretSource" . | fromJson }}
{{- $volumes := list }}
{{- $mounts := list }}
{{- if $source.name }}
{{- $file := include "chat.auth.secretFile" . }}
{{- $items := list (dict "key" $source.key "path" (base $file)) }}
{{- $volumes = list (dict "name" "auth-jwt-secret" "secret" (dict "secretName" $source.name "items" $items)) }}
{{- $mounts = list (dict "name" "auth-jwt-secret" "mountPath" (dir $file) "readOnly" true) }}
{{- end }}
{{- dict "volumes" $volumes "volumeMounts" $mounts | toJson }}
{{- end }}
