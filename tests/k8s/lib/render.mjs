// Renders a Kustomize overlay with the machine's kubectl and validates each object
// against the Kubernetes API schemas (kubernetes-models; cert-manager's for its kinds).

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import YAML from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const deployDir = path.join(repoRoot, 'deploy/kubernetes');
export const kubectl = process.env.KUBECTL || 'kubectl';

export function render(dir) {
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return YAML.parseAllDocuments(out).map((d) => {
    if (d.errors.length) throw new Error(`${dir}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((o) => o !== null);
}

// apiVersion -> module of model classes.
function modelModule(apiVersion) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '') return `kubernetes-models/${version}`;
  if (group.endsWith('cert-manager.io')) return `@kubernetes-models/cert-manager/${group}/${version}`;
  return `kubernetes-models/${group}/${version}`;
}

// Throws with the object's kind/name and the schema's complaint when `obj` is invalid or
// of a kind no schema is known for.
export async function validate(obj) {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  let mod;
  try {
    mod = await import(modelModule(obj.apiVersion));
  } catch (e) {
    throw new Error(`${id}: no schema for apiVersion ${obj.apiVersion}: ${e.message}`);
  }
  const Model = mod[obj.kind];
  if (!Model) throw new Error(`${id}: no schema for kind ${obj.kind} in ${obj.apiVersion}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${id}: ${e.message}`);
  }
}
