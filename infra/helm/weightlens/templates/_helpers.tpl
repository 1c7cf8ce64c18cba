{{- define "weightlens.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "weightlens.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "weightlens.image" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- if $root.Values.image.registry -}}{{ printf "%s/%s:%s" $root.Values.image.registry $name $root.Values.image.tag }}{{- else -}}{{ printf "%s:%s" $name $root.Values.image.tag }}{{- end -}}
{{- end -}}

{{- define "weightlens.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "weightlens.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "weightlens.secretName" -}}
{{- $root := index . 0 -}}{{- $kind := index . 1 -}}
{{- if $root.Values.secrets.create -}}{{ printf "%s-%s" (include "weightlens.fullname" $root) $kind }}{{- else -}}{{ index $root.Values.secrets (printf "existing%s" (title $kind)) }}{{- end -}}
{{- end -}}

{{- /* The service settings every weightlens container reads (infra/config.ts, infra/tls.ts, storage/s3.ts). */ -}}
{{- define "weightlens.serviceEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- if has .Values.temporal.tls (list "tls" "mtls") }}
- name: TEMPORAL_TLS
  value: "1"
{{- end }}
{{- if eq .Values.temporal.tls "mtls" }}
- name: TEMPORAL_TLS_CERT
  value: /etc/weightlens/temporal/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/weightlens/temporal/tls.key
{{- end }}
{{- if and (has .Values.temporal.tls (list "tls" "mtls")) .Values.temporal.caFromSecret }}
- name: TEMPORAL_TLS_CA
  value: /etc/weightlens/temporal/ca.crt
{{- end }}
{{- if .Values.temporal.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ .Values.temporal.serverName | quote }}
{{- end }}
{{- if .Values.temporal.apiKey }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "weightlens.secretName" (list . "temporal") }}
      key: apiKey
{{- end }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "weightlens.secretName" (list . "postgres") }}
      key: databaseUrl
{{- if eq .Values.s3.mode "aws" }}
- name: WEIGHTLENS_S3
  value: aws
{{- else }}
- name: AWS_ENDPOINT_URL_S3
  value: {{ required "s3.endpoint is required when s3.mode is compatible" .Values.s3.endpoint | quote }}
{{- end }}
- name: AWS_REGION
  value: {{ .Values.s3.region | quote }}
- name: WEIGHTLENS_BUCKET
  value: {{ .Values.s3.bucket | quote }}
{{- if .Values.s3.keysFromSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "weightlens.secretName" (list . "s3") }}
      key: accessKeyId
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "weightlens.secretName" (list . "s3") }}
      key: secretAccessKey
{{- end }}
{{- if .Values.s3.caFromSecret }}
- name: AWS_CA_BUNDLE
  value: /etc/weightlens/s3/ca.crt
{{- end }}
{{- end -}}

{{- define "weightlens.serviceVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if or (eq .Values.temporal.tls "mtls") .Values.temporal.caFromSecret }}
- name: temporal-tls
  mountPath: /etc/weightlens/temporal
  readOnly: true
{{- end }}
{{- if .Values.postgres.caFromSecret }}
- name: postgres-ca
  mountPath: /etc/weightlens/postgres
  readOnly: true
{{- end }}
{{- if .Values.s3.caFromSecret }}
- name: s3-ca
  mountPath: /etc/weightlens/s3
  readOnly: true
{{- end }}
{{- end -}}

{{- define "weightlens.serviceVolumes" -}}
- name: tmp
  emptyDir: {}
{{- if or (eq .Values.temporal.tls "mtls") .Values.temporal.caFromSecret }}
- name: temporal-tls
  secret:
    secretName: {{ include "weightlens.secretName" (list . "temporal") }}
    items:
    {{- if eq .Values.temporal.tls "mtls" }}
      - { key: tls.crt, path: tls.crt }
      - { key: tls.key, path: tls.key }
    {{- end }}
    {{- if .Values.temporal.caFromSecret }}
      - { key: ca.crt, path: ca.crt }
    {{- end }}
{{- end }}
{{- if .Values.postgres.caFromSecret }}
- name: postgres-ca
  secret:
    secretName: {{ include "weightlens.secretName" (list . "postgres") }}
    items:
      - { key: ca.crt, path: ca.crt }
{{- end }}
{{- if .Values.s3.caFromSecret }}
- name: s3-ca
  secret:
    secretName: {{ include "weightlens.secretName" (list . "s3") }}
    items:
      - { key: ca.crt, path: ca.crt }
{{- end }}
{{- end -}}
