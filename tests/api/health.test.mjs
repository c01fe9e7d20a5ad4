// health.test.mjs - /healthz, /readyz and /metrics on each service's own port (not exposed
// through the gateway, which only has its own liveness answer).
import test from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNT_URL, AUDIT_URL } from './lib/env.mjs';
import { call, request } from './lib/http.mjs';
import { expectProblemContract } from './lib/contract.mjs';

const services = [
  { name: 'account', base: ACCOUNT_URL, ops: ['accountHealthz', 'accountReadyz', 'accountMetrics'] },
  { name: 'audit', base: AUDIT_URL, ops: ['auditHealthz', 'auditReadyz', 'auditMetrics'] },
];

// One Prometheus text-format sample line: name{labels} value [timestamp].
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? [-+]?([0-9.eE+-]+|NaN|Inf)( -?\d+)?$/;

for (const svc of services) {
  test(`${svc.name}: /healthz and /readyz answer 200 JSON`, async () => {
    const h = await call(svc.ops[0], { base: svc.base });
    assert.equal(h.status, 200, h.text);
    assert.equal(typeof h.body?.status, 'string');
    const r = await call(svc.ops[1], { base: svc.base });
    assert.equal(r.status, 200, r.text);
  });

  test(`${svc.name}: /metrics is Prometheus text with # TYPE lines`, async () => {
    const m = await call(svc.ops[2], { base: svc.base });
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(m.text, /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/m);
    const types = new Map();
    for (const line of m.text.split('\n')) {
      if (line === '') continue;
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t) {
        types.set(t[1], t[2]);
        continue;
      }
      if (line.startsWith('#')) {
        assert.match(line, /^# (HELP|TYPE) /, `comment line: ${line}`);
        continue;
      }
      assert.match(line, SAMPLE, `sample line: ${line}`);
    }
    assert.ok(types.size > 0);
    // After a request the request counters move.
    await request('GET', '/healthz', { base: svc.base });
    const again = await request('GET', '/metrics', { base: svc.base });
    assert.equal(again.status, 200);
    // Latency by route and status class, and the process's own figures.
    assert.match(again.text, /^sesshu_http_request_duration_seconds_bucket\{service="[a-z]+",method="GET",route="\/healthz",code="2xx",le="\+Inf"\} [1-9]\d*$/m);
    assert.match(again.text, /^sesshu_http_request_duration_seconds_count\{[^}]*route="\/healthz",code="2xx"\} [1-9]\d*$/m);
    const rss = Number(/^process_resident_memory_bytes\{[^}]*\} (\d+)$/m.exec(again.text)?.[1]);
    assert.ok(rss > 1024 * 1024, `resident memory ${rss}`);
    assert.match(again.text, /^process_cpu_seconds_total\{[^}]*\} \d+(\.\d+)?$/m);
    assert.match(again.text, /^process_open_fds\{[^}]*\} [1-9]\d*$/m);
  });

  test(`${svc.name}: an unknown path on the service port is a 404 problem`, async () => {
    const r = await request('GET', '/no-such-path', { base: svc.base });
    assert.equal(r.status, 404);
    expectProblemContract(r, `${svc.name} GET /no-such-path`);
  });
}

test('the services\' /metrics and /readyz are not exposed through the gateway', async () => {
  for (const p of ['/metrics', '/readyz', '/api/v1/metrics']) {
    const r = await request('GET', p);
    assert.equal(r.status, 404, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
    expectProblemContract(r, `gateway GET ${p}`);
    assert.doesNotMatch(r.text, /# TYPE/);
  }
});
