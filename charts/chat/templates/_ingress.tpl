{{/*
The edge Ingress's annotations: the ingress-nginx per-client limits from edge.ingress.nginx
(a limit of 0 is left out), then edge.ingress.annotations, which win.
*/}}
{{- define "chat.edge.ingressAnnotations" -}}
{{- $nginx := .Values.edge.ingress.nginx }}
{{- $prefix := "nginx.ingress.kubernetes.io/" }}
{{- $rendered := dict (printf "%sproxy-request-buffering" $prefix) (ternary "on" "off" $nginx.requestBuffering) }}
{{- $limits := list (list "limit-connections" $nginx.limitConnections) (list "limit-rps" $nginx.limitRps) (list "limit-burst-multiplier" $nginx.limitBurstMultiplier) }}
{{- range $limits }}
{{- if gt (int (index . 1)) 0 }}
{{- $_ := set $rendered (printf "%s%s" $prefix (index . 0)) (toString (int (index . 1))) }}
{{- end }}
{{- end }}
{{- merge (deepCopy (.Values.edge.ingress.annotations | default dict)) $rendered | toYaml }}
{{- end }}
