{{/*
The Deployment of one service, shared by edge and message:
(dict "root" $ "component" "edge" "values" .Values.edge "secretEnv" (list of EnvVar)
      "volumes" (list of Volume) "volumeMounts" (list of VolumeMount)), lists optional
*/}}
{{- define "chat.deployment" -}}
{{- $root := .root }}
{{- $values := .values }}
{{- $name := include "chat.componentName" . }}
{{- $selector := include "chat.componentSelectorLabels" . }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "chat.componentLabels" . | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/" .component "-configmap.yaml") $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "chat.componentLabels" . | nindent 8 }}
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "chat.serviceAccountName" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "chat.terminationGracePeriodSeconds" (dict "shutdown" $values.shutdown) }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $values.topologySpread.topologyKeys }}
      # matchLabelKeys: each rollout's new pods are spread on their own, not with the old ones.
      topologySpreadConstraints:
        {{- range . }}
        - topologyKey: {{ . }}
          maxSkew: {{ $values.topologySpread.maxSkew }}
          whenUnsatisfiable: {{ $values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
          matchLabelKeys:
            - pod-template-hash
        {{- end }}
      {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "chat.image" (dict "root" $root "image" $values.image) | quote }}
          imagePullPolicy: {{ $values.image.pullPolicy }}
          envFrom:
            - configMapRef:
                name: {{ $name }}
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: {{ include "chat.otelResourceAttributes" $root | quote }}
            {{- with .secretEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ $values.port }}
              protocol: TCP
            {{- if $root.Values.metrics.enabled }}
            - name: metrics
              containerPort: {{ $values.metricsPort }}
              protocol: TCP
            {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            {{- toYaml $values.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            {{- toYaml $values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            {{- toYaml $values.probes.readiness | nindent 12 }}
          lifecycle:
            # SIGTERM arrives after this pause; the service then fails readiness, finishes
            # in-flight requests (up to SHUTDOWN_TIMEOUT_MS) and exits 0.
            preStop:
              {{- include "chat.preStop" (dict "root" $root "shutdown" $values.shutdown) | trim | nindent 14 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with .volumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        # The root filesystem is read-only; Node and its libraries may still want a /tmp.
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with .volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end }}

{{/*
The ClusterIP Service of one service: (dict "root" $ "component" "edge" "values" .Values.edge)
*/}}
{{- define "chat.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chat.componentName" . }}
  labels:
    {{- include "chat.componentLabels" . | nindent 4 }}
  {{- with .values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .values.service.type }}
  selector:
    {{- include "chat.componentSelectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .values.service.port }}
      targetPort: http
      protocol: TCP
      {{- if eq .component "message" }}
      # Connect, gRPC and gRPC-Web over HTTP/1.1 and h2c on one port.
      appProtocol: http
      {{- end }}
    {{- if .root.Values.metrics.enabled }}
    - name: metrics
      port: {{ .values.metricsPort }}
      targetPort: metrics
      protocol: TCP
    {{- end }}
{{- end }}

{{/*
The HorizontalPodAutoscaler of one service: (dict "root" $ "component" "edge" "values" .Values.edge)
*/}}
{{- define "chat.hpa" -}}
{{- $autoscaling := .values.autoscaling }}
{{- if $autoscaling.enabled }}
{{- if gt (int $autoscaling.minReplicas) (int $autoscaling.maxReplicas) }}
{{- fail (printf "%s.autoscaling: minReplicas (%v) is larger than maxReplicas (%v)" .component $autoscaling.minReplicas $autoscaling.maxReplicas) }}
{{- end }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "chat.componentName" . }}
  labels:
    {{- include "chat.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "chat.componentName" . }}
  minReplicas: {{ $autoscaling.minReplicas }}
  maxReplicas: {{ $autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetCPUUtilizationPercentage }}
    {{- if $autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetMemoryUtilizationPercentage }}
    {{- end }}
  {{- with $autoscaling.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
The PodDisruptionBudget of one service: (dict "root" $ "component" "edge" "values" .Values.edge)
*/}}
{{- define "chat.pdb" -}}
{{- $pdb := .values.podDisruptionBudget }}
{{- if $pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "chat.componentName" . }}
  labels:
    {{- include "chat.componentLabels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" $pdb.minAvailable) }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "chat.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/*
The ServiceMonitor of one service: (dict "root" $ "component" "edge" "values" .Values.edge)
*/}}
{{- define "chat.serviceMonitor" -}}
{{- $monitor := .root.Values.metrics.serviceMonitor }}
{{- if and .root.Values.metrics.enabled $monitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "chat.componentName" . }}
  labels:
    {{- include "chat.componentLabels" . | nindent 4 }}
    {{- with $monitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "chat.componentSelectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ .root.Release.Namespace }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $monitor.interval }}
      scrapeTimeout: {{ $monitor.scrapeTimeout }}
{{- end }}
{{- end }}
