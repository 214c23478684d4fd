#!/usr/bin/env bash
# Renders the plain manifests of deploy/kubernetes from the Helm chart
# (make manifests). Usage: scripts/render-manifests.sh [OUT_DIR]
# Deterministic: the Secret is not rendered (existingSecret), so nothing
# random lands in the files. README "Kubernetes" says how to make it.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-deploy/kubernetes}
HELM=$BUILD/tools/helm
[ -x "$HELM" ] || scripts/k8s-tools.sh
mkdir -p "$OUT"
render() { # FILE MODE
	{
		echo "# Rendered from deploy/helm/tokentap by 'make manifests': do not edit."
		echo "# Needs the Secret tokentap-secrets (keys fingerprint.key, sensor-token): README \"Kubernetes\"."
		"$HELM" template tokentap deploy/helm/tokentap --namespace tokentap \
			--set namespace.create=true --set secrets.existingSecret=tokentap-secrets \
			--set sensor.privilegeMode="$2"
	} >"$OUT/$1"
}
render tokentap.yaml privileged
render tokentap-least-privilege.yaml least
