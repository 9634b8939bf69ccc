#!/usr/bin/env bash
# Deletes the kind cluster made by k8s/kind-up.sh, with everything in it.
set -euo pipefail
if [[ ${CONTAINER_TOOL:-docker} == podman ]]; then
  export KIND_EXPERIMENTAL_PROVIDER=podman
fi
kind delete cluster --name "${KIND_CLUSTER:-chat}"
