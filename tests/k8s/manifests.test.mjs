// Every Kustomize overlay under deploy/kubernetes/overlays renders with `kubectl
// kustomize`, each object is valid against the Kubernetes API schemas, and the objects
// agree with each other (Services select pods and name their ports, volumes name
// ConfigMaps/Secrets the overlay provides, the webhook reaches its Service).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { deployDir, render, validate } from './lib/render.mjs';

const overlays = fs.readdirSync(path.join(deployDir, 'overlays')).sort();

function podSpecs(objects) {
  const out = [];
  for (const o of objects) {
    const t = o.spec?.template;
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind)) {
      out.push({ owner: o, labels: t.metadata?.labels ?? {}, spec: t.spec });
    }
  }
  return out;
}

function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

const matches = (selector, labels) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

test('there are overlays to check', () => {
  assert.deepEqual(overlays, ['single', 'split', 'webhook-cert-manager', 'webhook-job']);
});

for (const overlay of overlays) {
  describe(`overlay ${overlay}`, () => {
    const objects = render(path.join(deployDir, 'overlays', overlay));

    test('every object is valid against its API schema', async () => {
      for (const o of objects) await validate(o);
    });

    test('namespaced objects live in the strand namespace', () => {
      const cluster = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding',
        'CustomResourceDefinition', 'MutatingWebhookConfiguration']);
      for (const o of objects) {
        if (cluster.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind}/${o.metadata.name}`);
        else assert.equal(o.metadata.namespace, 'strand', `${o.kind}/${o.metadata.name}`);
      }
    });

    test('the store is one StatefulSet with a volume for /data, probed on /ready', () => {
      const sts = find(objects, 'StatefulSet', 'strand');
      assert.ok(sts);
      assert.equal(sts.spec.volumeClaimTemplates[0].metadata.name, 'data');
      const c = sts.spec.template.spec.containers[0];
      assert.ok(c.volumeMounts.some((m) => m.name === 'data' && m.mountPath === '/data'));
      for (const p of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        assert.equal(c[p].httpGet.path, '/ready', p);
      }
      const ports = Object.fromEntries(c.ports.map((p) => [p.name, p.containerPort]));
      assert.deepEqual(ports, { 'otlp-grpc': 4317, 'otlp-http': 4318, 'http-api': 3200 });
      const svc = find(objects, 'Service', 'strand');
      assert.deepEqual(svc.spec.ports.map((p) => p.port).sort(), [3200, 4317, 4318]);
    });

    test('every container runs as non-root with a read-only root and no capabilities', () => {
      for (const { owner, spec } of podSpecs(objects)) {
        const id = `${owner.kind}/${owner.metadata.name}`;
        assert.equal(spec.securityContext?.runAsNonRoot, true, id);
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${id} ${c.name}`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${id} ${c.name}`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${id} ${c.name}`);
          assert.ok(c.resources?.requests && c.resources?.limits?.memory, `${id} ${c.name} resources`);
          assert.equal(c.image, 'strand:latest', `${id} ${c.name} image`);
        }
      }
    });

    test('volumes and service accounts refer to objects the overlay provides', () => {
      const provided = (kind, name) => find(objects, kind, name) ||
        // cert-manager (or the certificate Job) writes the webhook's Secret at run time.
        (kind === 'Secret' && name === 'strand-webhook-tls' &&
          (find(objects, 'Certificate', 'strand-webhook') || find(objects, 'Job', 'strand-webhook-certs')));
      for (const { owner, spec } of podSpecs(objects)) {
        const id = `${owner.kind}/${owner.metadata.name}`;
        for (const v of spec.volumes ?? []) {
          if (v.configMap) assert.ok(provided('ConfigMap', v.configMap.name), `${id}: ConfigMap ${v.configMap.name}`);
          if (v.secret) assert.ok(provided('Secret', v.secret.secretName), `${id}: Secret ${v.secret.secretName}`);
        }
        if (spec.serviceAccountName) {
          assert.ok(provided('ServiceAccount', spec.serviceAccountName), `${id}: ${spec.serviceAccountName}`);
        }
        for (const c of spec.containers) {
          for (const m of c.volumeMounts ?? []) {
            const known = (spec.volumes ?? []).some((v) => v.name === m.name) ||
              (owner.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === m.name);
            assert.ok(known, `${id} ${c.name}: volumeMount ${m.name}`);
          }
        }
      }
      for (const b of objects.filter((o) => o.kind.endsWith('RoleBinding'))) {
        assert.ok(find(objects, b.roleRef.kind, b.roleRef.name), `${b.metadata.name}: ${b.roleRef.name}`);
        for (const s of b.subjects) assert.ok(find(objects, 'ServiceAccount', s.name), s.name);
      }
    });

    test('each Service selects pods and names ports they declare', () => {
      for (const svc of objects.filter((o) => o.kind === 'Service')) {
        const pods = podSpecs(objects).filter((p) => matches(svc.spec.selector, p.labels));
        assert.ok(pods.length > 0, `Service ${svc.metadata.name} selects no pods`);
        for (const port of svc.spec.ports) {
          for (const p of pods) {
            const declared = p.spec.containers.flatMap((c) => c.ports ?? []);
            const ok = typeof port.targetPort === 'string'
              ? declared.some((d) => d.name === port.targetPort)
              : declared.some((d) => d.containerPort === (port.targetPort ?? port.port));
            assert.ok(ok, `Service ${svc.metadata.name} port ${port.name} -> ${p.owner.metadata.name}`);
          }
        }
      }
    });

    test('ConfigMaps hold the configuration the containers are started with', () => {
      for (const { owner, spec } of podSpecs(objects)) {
        for (const c of spec.containers) {
          const i = (c.args ?? []).indexOf('--config');
          if (i < 0) continue;
          const file = c.args[i + 1];
          const mount = c.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
          const vol = spec.volumes.find((v) => v.name === mount.name);
          const cm = find(objects, 'ConfigMap', vol.configMap.name);
          assert.ok(cm.data[path.basename(file)], `${owner.metadata.name}: ${file}`);
        }
      }
    });
  });
}

describe('split overlay', () => {
  const objects = render(path.join(deployDir, 'overlays/split'));
  test('the gateway forwards otlp -> memory_limiter -> batch -> the store Service', async () => {
    const YAML = (await import('yaml')).default;
    const gw = find(objects, 'Deployment', 'strand-gateway');
    const cmName = gw.spec.template.spec.volumes.find((v) => v.configMap).configMap.name;
    const cfg = YAML.parse(find(objects, 'ConfigMap', cmName).data['collector.yaml']);
    assert.deepEqual(cfg.service.pipelines.traces, {
      receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp'],
    });
    assert.equal(cfg.exporters.otlp.endpoint, 'strand.strand.svc:4317');
    assert.ok(find(objects, 'Service', 'strand'));
  });
});

for (const overlay of ['webhook-cert-manager', 'webhook-job']) {
  describe(`${overlay}: the webhook`, () => {
    const objects = render(path.join(deployDir, 'overlays', overlay));
    test('pods CREATE go to /mutate-v1-pod on the webhook Service, never blocking, skipping its own namespace', () => {
      const mwc = find(objects, 'MutatingWebhookConfiguration', 'strand-webhook');
      const [hook] = mwc.webhooks;
      assert.equal(hook.failurePolicy, 'Ignore');
      assert.deepEqual(hook.rules[0].operations, ['CREATE']);
      assert.deepEqual(hook.rules[0].resources, ['pods']);
      assert.deepEqual(hook.admissionReviewVersions, ['v1']);
      assert.equal(hook.clientConfig.service.path, '/mutate-v1-pod');
      const svc = find(objects, 'Service', hook.clientConfig.service.name);
      assert.equal(svc.metadata.namespace, hook.clientConfig.service.namespace);
      assert.deepEqual(svc.spec.ports.map((p) => p.port), [hook.clientConfig.service.port]);
      const skip = hook.namespaceSelector.matchExpressions.find((e) => e.key === 'kubernetes.io/metadata.name');
      assert.equal(skip.operator, 'NotIn');
      assert.ok(skip.values.includes(svc.metadata.namespace));
      const dep = find(objects, 'Deployment', 'strand-webhook');
      const c = dep.spec.template.spec.containers[0];
      assert.equal(c.args[0], 'webhook');
      assert.ok(c.args.includes('--listen=0.0.0.0:9443'));
      assert.equal(c.ports[0].containerPort, 9443);
      assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS');
    });
    test('the Instrumentation CRD is opentelemetry.io/v1alpha1 with the fields Strand reads', () => {
      const crd = find(objects, 'CustomResourceDefinition', 'instrumentations.opentelemetry.io');
      const v = crd.spec.versions.find((x) => x.name === 'v1alpha1');
      const spec = v.schema.openAPIV3Schema.properties.spec.properties;
      for (const k of ['exporter', 'propagators', 'sampler', 'env', 'resource', 'nodejs', 'python', 'java']) {
        assert.ok(spec[k], k);
      }
      for (const lang of ['nodejs', 'python', 'java']) {
        assert.deepEqual(Object.keys(spec[lang].properties).sort(), ['env', 'image', 'resources', 'volumeLimitSize']);
      }
    });
    test('the webhook may read what it needs, and no more', () => {
      const role = find(objects, 'ClusterRole', 'strand-webhook');
      const verbs = role.rules.flatMap((r) => r.verbs);
      assert.ok(verbs.every((x) => ['get', 'list'].includes(x)));
    });
  });
}
