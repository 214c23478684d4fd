// Validates every object of rendered Kubernetes manifests against the
// schema of its kind (kubernetes-models: the Kubernetes OpenAPI schemas,
// compiled with ajv; prometheus-operator's for ServiceMonitor).
//
// Usage: node validate.mjs NODE_MODULES_DIR FILE...
// Prints one line per object ("ok Kind/name" or "INVALID Kind/name: why")
// and exits 1 when any object is invalid, of an unknown kind, or no object
// was found at all.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [nmArg, ...files] = process.argv.slice(2);
const nm = nmArg ? resolve(nmArg) : nmArg;
if (!nm || files.length === 0) {
	console.error("usage: node validate.mjs NODE_MODULES_DIR FILE...");
	process.exit(2);
}
const YAML = createRequire(join(nm, "noop.js"))("yaml");

// apiVersion -> the package folder holding its kinds
function modelPath(apiVersion, kind) {
	if (apiVersion.startsWith("monitoring.coreos.com/"))
		return join(nm, "@kubernetes-models/prometheus-operator", apiVersion, kind + ".js");
	return join(nm, "kubernetes-models", apiVersion, kind + ".js");
}

let bad = 0, seen = 0;
for (const file of files) {
	const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"));
	for (const doc of docs) {
		if (doc.errors.length) {
			console.log(`INVALID ${file}: YAML: ${doc.errors[0].message}`);
			bad++;
			continue;
		}
		const obj = doc.toJS();
		if (obj === null || obj === undefined)
			continue;
		seen++;
		const id = `${obj.kind}/${obj.metadata?.name}`;
		let mod;
		try {
			mod = await import(pathToFileURL(modelPath(String(obj.apiVersion), String(obj.kind))));
		} catch {
			console.log(`INVALID ${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
			bad++;
			continue;
		}
		try {
			new mod[obj.kind](obj).validate();
			console.log(`ok ${id}`);
		} catch (e) {
			console.log(`INVALID ${id}: ${String(e.message).split("\n").slice(0, 5).join("; ")}`);
			bad++;
		}
	}
}
if (seen === 0) {
	console.log("INVALID: no object found");
	bad++;
}
process.exit(bad ? 1 : 0);
