#!/usr/bin/env node
// check-k8s.mjs [DIR] - validates the Kubernetes manifests of deploy/k8s (every file its
// kustomization.yaml lists) against the Kubernetes API's JSON schemas, offline: the
// kubernetes-models package (installed with tests/api, pinned by its lock) ships them as Ajv
// validators, one per kind. Then what production needs of them, which a schema does not say:
// each Deployment's containers have CPU and memory requests and a memory limit, readiness and
// liveness probes over HTTP (/readyz and /healthz; the gateway's /healthz), secrets only by
// reference (no literal value of a *PASSWORD*, *KEY*, *SECRET* variable), a PodDisruptionBudget
// and a HorizontalPodAutoscaler for it, and a NetworkPolicy selecting its pods under a
// default deny. Prints one line per problem; exits 1 if any. (Unknown fields are not caught:
// the schemas allow additional properties.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? path.join(here, '..', '..', '..', 'deploy', 'k8s');
const problems = [];
const bad = (where, msg) => problems.push(`${where}: ${msg}`);

function loadAll() {
  const kust = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0].toJS();
  const objs = [];
  for (const file of kust.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (doc.errors.length) bad(file, `YAML: ${doc.errors[0].message}`);
      const o = doc.toJS();
      if (o) objs.push({ file, o });
    }
  }
  return objs;
}

// apiVersion "apps/v1" -> kubernetes-models/apps/v1; the core group "v1" -> kubernetes-models/v1.
async function schemaCheck({ file, o }) {
  const where = `${file} ${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return bad(where, 'no apiVersion or kind');
  let mod;
  try {
    mod = await import(`kubernetes-models/${o.apiVersion}`);
  } catch {
    return bad(where, `unknown apiVersion ${o.apiVersion}`);
  }
  const Model = mod[o.kind];
  if (typeof Model !== 'function') return bad(where, `${o.apiVersion} has no kind ${o.kind}`);
  try {
    new Model(o).validate();
  } catch (e) {
    bad(where, `schema: ${String(e.message).split('\n').slice(0, 4).join('; ')}`);
  }
}

const SECRETISH = /PASSWORD|SECRET|_KEY$|_KEY_/;

function productionCheck(objs) {
  const byKind = (k) => objs.map((x) => x.o).filter((o) => o.kind === k);
  const deployments = byKind('Deployment');
  const pdbs = byKind('PodDisruptionBudget');
  const hpas = byKind('HorizontalPodAutoscaler');
  const policies = byKind('NetworkPolicy');
  const labelsMatch = (sel, labels) => Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);
  if (!policies.some((p) => Object.keys(p.spec?.podSelector ?? {}).length === 0 && (p.spec?.policyTypes ?? []).includes('Ingress') && !p.spec?.ingress))
    bad('NetworkPolicy', 'no default deny (empty podSelector, no ingress rules)');
  for (const d of deployments) {
    const name = d.metadata.name;
    const labels = d.spec?.template?.metadata?.labels ?? {};
    for (const c of d.spec?.template?.spec?.containers ?? []) {
      const where = `Deployment/${name} container ${c.name}`;
      const r = c.resources ?? {};
      if (!r.requests?.cpu || !r.requests?.memory) bad(where, 'no CPU and memory requests');
      if (!r.limits?.memory) bad(where, 'no memory limit');
      const ready = c.readinessProbe?.httpGet?.path;
      const live = c.livenessProbe?.httpGet?.path;
      const wantReady = name === 'gateway' ? '/healthz' : '/readyz';
      if (ready !== wantReady) bad(where, `readiness probe is not GET ${wantReady}`);
      if (live !== '/healthz') bad(where, 'liveness probe is not GET /healthz');
      for (const e of c.env ?? []) {
        if (SECRETISH.test(e.name) && !/_(FILE|DIR)$/.test(e.name) && e.value !== undefined && !e.valueFrom)
          bad(where, `${e.name} is a literal value, not a reference to a Secret`);
      }
    }
    const sel = d.spec?.selector?.matchLabels ?? {};
    if (!pdbs.some((p) => labelsMatch(p.spec?.selector?.matchLabels, sel) && Object.keys(p.spec?.selector?.matchLabels ?? {}).length))
      bad(`Deployment/${name}`, 'no PodDisruptionBudget selects its pods');
    if (!hpas.some((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === name))
      bad(`Deployment/${name}`, 'no HorizontalPodAutoscaler scales it');
    if (!policies.some((p) => Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length && labelsMatch(p.spec.podSelector.matchLabels, labels)))
      bad(`Deployment/${name}`, 'no NetworkPolicy of its own');
  }
}

const objs = loadAll();
for (const x of objs) await schemaCheck(x);
productionCheck(objs);
for (const p of problems) console.log(`deploy/k8s: ${p}`);
console.log(`deploy/k8s: ${objs.length} objects checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
