#!/usr/bin/env bash
# Creates a kind cluster and deploys the chat system into it: builds and loads both
# images, installs ingress-nginx and a development Jaeger, installs the chart with
# k8s/kind-values.yaml, waits for the rollout and runs the smoke test through the ingress.
# Needs: kind, kubectl, helm, curl, and docker (or CONTAINER_TOOL=podman).
set -euo pipefail
cd "$(dirname "$0")/.."

cluster=${KIND_CLUSTER:-chat}
namespace=${NAMESPACE:-chat}
release=${RELEASE:-chat}
tag=${IMAGE_TAG:-dev}
tool=${CONTAINER_TOOL:-docker}
helm=${HELM:-helm}
ingress_manifest=${INGRESS_NGINX_MANIFEST:-https://kind.sigs.k8s.io/examples/ingress/deploy-ingress-nginx.yaml}

for command in kind kubectl "$helm" "$tool" curl; do
  command -v "$command" >/dev/null || { echo "kind-up: $command is not installed" >&2; exit 1; }
done
if [[ $tool == podman ]]; then
  export KIND_EXPERIMENTAL_PROVIDER=podman
fi

if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" --config k8s/kind-config.yaml
fi
kubectl config use-context "kind-$cluster" >/dev/null

make images CONTAINER_TOOL="$tool" IMAGE_TAG="$tag"
for image in "chat-edge:$tag" "chat-message:$tag"; do
  if [[ $tool == docker ]]; then
    kind load docker-image "$image" --name "$cluster"
  else
    archive=$(mktemp)
    "$tool" save --format docker-archive -o "$archive" "$image"
    kind load image-archive "$archive" --name "$cluster"
    rm -f "$archive"
  fi
done

kubectl apply -f "$ingress_manifest"
kubectl apply -f k8s/jaeger.yaml
kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
kubectl -n observability rollout status deployment/jaeger --timeout=300s

"$helm" upgrade --install "$release" charts/chat \
  --namespace "$namespace" --create-namespace \
  --values k8s/kind-values.yaml \
  --set edge.image.tag="$tag" --set message.image.tag="$tag" \
  --wait --timeout 10m
kubectl -n "$namespace" wait --for=condition=Available deployment \
  --selector app.kubernetes.io/instance="$release" --timeout=300s

k8s/smoke-test.sh http://localhost
"$helm" test "$release" --namespace "$namespace" --logs
echo "chat is up: http://localhost (Jaeger UI: kubectl -n observability port-forward service/jaeger 16686:16686)"
