// audit-proofs.test.mjs - issue 14: the access log's signed checkpoints, inclusion and
// consistency proofs, checked by a verifier written here from RFC 9162 (2.1.1 tree hashes,
// 2.1.3.2 inclusion, 2.1.4.2 consistency) - not the service's code - and the checkpoint's
// signature by the audit service's public key (keys/audit-<kid>.pem) with node's own crypto.
// The tree over the rows' hashes is also recomputed here from the database (superuser read).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as verifySig } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request, requestId, sleep } from './lib/http.mjs';
import { expectFieldErrors } from './lib/problem.mjs';
import { chuokai } from './lib/fixtures.mjs';
import { stackEnv } from './lib/env.mjs';
import { psql, lit } from './lib/sql.mjs';

let ck;
before(async () => {
  ck = await chuokai();
});

// ---- RFC 9162, from the text -----------------------------------------------------------------
const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (input) => sha(Buffer.from([0x00]), input); // 2.1.1: MTH({d0}) = SHA-256(0x00 || d0)
const nodeHash = (l, r) => sha(Buffer.from([0x01]), l, r); // SHA-256(0x01 || MTH(left) || MTH(right))
function largestPow2Below(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
// MTH(D[n]) over leaf inputs.
function mth(inputs) {
  if (inputs.length === 0) return sha(Buffer.alloc(0));
  if (inputs.length === 1) return leafHash(inputs[0]);
  const k = largestPow2Below(inputs.length);
  return nodeHash(mth(inputs.slice(0, k)), mth(inputs.slice(k)));
}
const lsb = (x) => x % 2 === 1;
const half = (x) => Math.floor(x / 2);
// 2.1.3.2: verifying an inclusion proof.
function verifyInclusion(leafIndex, treeSize, leaf, proof, root) {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}
// 2.1.4.2: verifying a consistency proof.
function verifyConsistency(first, second, firstHash, secondHash, proof) {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && firstHash.equals(secondHash);
  if (first === 0) return false;
  let path = proof;
  if ((first & (first - 1)) === 0) path = [firstHash, ...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(firstHash) && sr.equals(secondHash);
}

// ---- the signature ---------------------------------------------------------------------------
const b64url = (s) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
function checkSignature(cp) {
  const dir = stackEnv().SESSHU_JWT_PUBLIC_KEY_DIR;
  assert.ok(dir, 'SESSHU_JWT_PUBLIC_KEY_DIR is not in the stack environment');
  const [h, p, s] = cp.signature.split('.');
  const header = JSON.parse(b64url(h).toString('utf8'));
  assert.equal(header.alg, 'ES256');
  const files = readdirSync(dir).filter((f) => /^audit-[0-9a-f]+\.pem$/.test(f));
  assert.ok(files.length >= 1, 'no public key of the audit service in the keys directory');
  const signed = files.some((f) =>
    verifySig('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey(readFileSync(path.join(dir, f))), dsaEncoding: 'ieee-p1363' }, b64url(s)),
  );
  assert.ok(signed, 'the checkpoint is not signed by a key of the audit service');
  const claims = JSON.parse(b64url(p).toString('utf8'));
  assert.equal(claims.typ, 'sesshu-access-log-checkpoint/v1');
  assert.equal(claims.tree_size, cp.tree_size);
  assert.equal(claims.root_hash, cp.root_hash);
  assert.equal(claims.timestamp, cp.timestamp);
}

async function latest() {
  const r = await request('GET', '/api/v1/access-logs/checkpoints/latest');
  assert.equal(r.status, 200, r.text);
  return r.body;
}

// The first n rows of the tree's order (docs/architecture.md: rows of the single chain first,
// then by transaction id and chain position), as the leaf inputs, and their chain positions.
async function leaves(n) {
  const { rows } = await psql(`SELECT chain_pos, encode(hash, 'hex') FROM audit.access_log ORDER BY xid NULLS FIRST, chain_pos LIMIT ${Number(n)}`);
  assert.equal(rows.length, n, 'rows missing from the log');
  return { inputs: rows.map(([, hex]) => Buffer.from(hex, 'hex')), positions: rows.map(([p]) => Number(p)) };
}

test('issue 14: signed checkpoints, inclusion and consistency proofs verify under RFC 9162', { timeout: 120_000 }, async () => {
  const cp1 = await latest();
  checkSignature(cp1);
  assert.ok(cp1.tree_size >= 1);
  // Grow the log by requests of our own, then a later checkpoint (at most one a second).
  const rid = requestId();
  const me = await request('GET', '/api/v1/me', { token: ck.access, requestId: rid });
  assert.equal(me.status, 200);
  await sleep(1100);
  const cp2 = await latest();
  checkSignature(cp2);
  assert.ok(cp2.tree_size > cp1.tree_size, `${cp2.tree_size} is not past ${cp1.tree_size}`);

  // The roots are the Merkle tree heads of the rows in chain order, recomputed here.
  const { inputs, positions } = await leaves(cp2.tree_size);
  assert.equal(mth(inputs.slice(0, cp1.tree_size)).toString('hex'), cp1.root_hash);
  assert.equal(mth(inputs).toString('hex'), cp2.root_hash);

  // Consistency between the two checkpoints.
  const c = await request('GET', '/api/v1/access-logs/proofs/consistency', {
    token: ck.access,
    query: { first: cp1.tree_size, second: cp2.tree_size },
  });
  assert.equal(c.status, 200, c.text);
  const cpath = c.body.consistency_path.map((x) => Buffer.from(x, 'hex'));
  const r1 = Buffer.from(cp1.root_hash, 'hex');
  const r2 = Buffer.from(cp2.root_hash, 'hex');
  assert.ok(verifyConsistency(cp1.tree_size, cp2.tree_size, r1, r2, cpath), 'consistency proof does not verify');
  // ... and the verifier can say no: another root, or a path element changed.
  const other = Buffer.from(r2);
  other[0] ^= 1;
  assert.ok(!verifyConsistency(cp1.tree_size, cp2.tree_size, r1, other, cpath));
  if (cpath.length > 0) {
    const bad = cpath.map((x) => Buffer.from(x));
    bad[bad.length - 1][5] ^= 1;
    assert.ok(!verifyConsistency(cp1.tree_size, cp2.tree_size, r1, r2, bad));
  }

  // Inclusion of our own request's row (account's) in the second checkpoint.
  const { rows } = await psql(`SELECT chain_pos, encode(hash, 'hex') FROM audit.access_log WHERE request_id = ${lit(rid)} AND service = 'account'`);
  assert.equal(rows.length, 1, 'our row is not in the log');
  const pos = Number(rows[0][0]);
  const index = positions.indexOf(pos);
  assert.ok(index >= 0, 'our row is not covered by the second checkpoint');
  const leaf = leafHash(Buffer.from(rows[0][1], 'hex'));
  const inc = await request('GET', '/api/v1/access-logs/proofs/inclusion', {
    token: ck.access,
    query: { chain_pos: pos, tree_size: cp2.tree_size },
  });
  assert.equal(inc.status, 200, inc.text);
  assert.equal(inc.body.leaf_index, index);
  const ipath = inc.body.audit_path.map((x) => Buffer.from(x, 'hex'));
  assert.ok(verifyInclusion(index, cp2.tree_size, leaf, ipath, r2), 'inclusion proof does not verify');
  // A changed row (its hash) or another position is not included under that root.
  const changed = Buffer.from(leaf);
  changed[0] ^= 1;
  assert.ok(!verifyInclusion(index, cp2.tree_size, changed, ipath, r2));
  if (cp2.tree_size > 1) assert.ok(!verifyInclusion(index === 0 ? 1 : index - 1, cp2.tree_size, leaf, ipath, r2));
});

test('issue 14: proofs need access_logs.verify; bad sizes are 422', async () => {
  const cp = await latest();
  const anon = await request('GET', '/api/v1/access-logs/proofs/inclusion', { query: { chain_pos: 1, tree_size: 1 } });
  assert.equal(anon.status, 401);
  const past = await request('GET', '/api/v1/access-logs/proofs/inclusion', {
    token: ck.access,
    query: { chain_pos: cp.tree_size + 1000000, tree_size: cp.tree_size },
  });
  expectFieldErrors(past, ['chain_pos']);
  const order = await request('GET', '/api/v1/access-logs/proofs/consistency', {
    token: ck.access,
    query: { first: 2, second: 1 },
  });
  expectFieldErrors(order, ['first']);
  const missing = await request('GET', '/api/v1/access-logs/proofs/consistency', { token: ck.access, query: { second: 1 } });
  expectFieldErrors(missing, ['first']);
});

// ---- issue 14: proofs from stored subtree hashes (migration 009) ----------------------------
// Enough rows that the proofs read stored blocks of 256 leaves and the levels above them, then
// every kind of proof checked against roots recomputed here from all the rows.
async function growLog(n) {
  await psql(
    `INSERT INTO audit.access_log (request_id, service, actor_kind, method, route, path, status) ` +
      `SELECT 'proof-' || g, 'audit-proof-test', 'anonymous', 'GET', '/t', '/t/' || g, 200 FROM generate_series(1, ${Number(n)}) g`,
  );
}
const storedBlocks = async () => Number((await psql('SELECT count(*) FROM audit.subtrees WHERE level = 8')).rows[0][0]);

async function proveInclusion(pos, size) {
  const r = await request('GET', '/api/v1/access-logs/proofs/inclusion', { token: ck.access, query: { chain_pos: pos, tree_size: size } });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

test('issue 14: proofs over stored subtree hashes are the RFC 9162 proofs of the whole tree', { timeout: 300_000 }, async () => {
  await growLog(1300);
  await sleep(1100);
  const cp = await latest();
  checkSignature(cp);
  assert.ok(cp.tree_size >= 1300);
  assert.ok((await storedBlocks()) >= Math.floor(cp.tree_size / 256), 'the checkpoint did not store its blocks');
  const upper = await psql('SELECT count(*) FROM audit.subtrees WHERE level > 8');
  assert.ok(Number(upper.rows[0][0]) >= 1, 'no stored level above the blocks');
  const { inputs, positions } = await leaves(cp.tree_size);
  const root = mth(inputs);
  assert.equal(root.toString('hex'), cp.root_hash);

  // Inclusion at block edges, inside a block, in the last incomplete block, and in smaller trees.
  const n = cp.tree_size;
  const cases = [
    [0, n],
    [255, n],
    [256, n],
    [777, n],
    [n - 1, n],
    [300, 513],
    [511, 512],
    [1000, 1025],
  ];
  for (const [leaf, size] of cases) {
    const body = await proveInclusion(positions[leaf], size);
    assert.equal(body.leaf_index, leaf, `leaf ${leaf} of ${size}`);
    const lh = leafHash(inputs[leaf]);
    assert.equal(body.leaf_hash, lh.toString('hex'));
    const ipath = body.audit_path.map((x) => Buffer.from(x, 'hex'));
    assert.ok(verifyInclusion(leaf, size, lh, ipath, mth(inputs.slice(0, size))), `inclusion of ${leaf} in ${size} does not verify`);
  }
  // A row past the tree size asked for is not in it.
  const past = await request('GET', '/api/v1/access-logs/proofs/inclusion', { token: ck.access, query: { chain_pos: positions[600], tree_size: 600 } });
  expectFieldErrors(past, ['chain_pos']);

  // Consistency between sizes on and off the block boundaries.
  for (const [m, s] of [
    [1, n],
    [255, 256],
    [256, n],
    [300, 1025],
    [512, 1024],
    [1000, n],
    [n - 1, n],
  ]) {
    const c = await request('GET', '/api/v1/access-logs/proofs/consistency', { token: ck.access, query: { first: m, second: s } });
    assert.equal(c.status, 200, c.text);
    const cpath = c.body.consistency_path.map((x) => Buffer.from(x, 'hex'));
    assert.ok(verifyConsistency(m, s, mth(inputs.slice(0, m)), mth(inputs.slice(0, s)), cpath), `consistency ${m} -> ${s} does not verify`);
  }
});

test('issue 14: verify recomputes the stored subtree hashes: one changed is named, and its proofs fail', { timeout: 300_000 }, async () => {
  if ((await storedBlocks()) < 4) {
    await growLog(1100);
    await sleep(1100);
    await latest();
  }
  const cp = await latest();
  const before = await request('GET', '/api/v1/access-logs/verify', { token: ck.access });
  assert.equal(before.status, 200, before.text);
  assert.equal(before.body.ok, true, `already broken: ${JSON.stringify(before.body)}`);
  assert.equal(before.body.subtrees.ok, true);
  assert.ok(before.body.subtrees.checked >= 4);
  const refused = await psql("UPDATE audit.subtrees SET hash = sha256(hash) WHERE level = 8 AND idx = 1", { allowError: true });
  assert.notEqual(refused.code, 0, 'a stored subtree hash could be changed');

  // As the superuser with the guard off for one transaction: block 1 (leaves 256..511), which
  // the audit path of leaf 0 reads once the tree has 512 leaves.
  const tamper = (expr) =>
    psql(`BEGIN; ALTER TABLE audit.subtrees DISABLE TRIGGER USER; UPDATE audit.subtrees SET hash = ${expr} WHERE level = 8 AND idx = 1; ALTER TABLE audit.subtrees ENABLE TRIGGER USER; COMMIT;`);
  const { rows } = await psql("SELECT encode(hash, 'hex') FROM audit.subtrees WHERE level = 8 AND idx = 1");
  const good = rows[0][0];
  const { inputs, positions } = await leaves(cp.tree_size);
  await tamper("sha256(hash)");
  try {
    const broken = await request('GET', '/api/v1/access-logs/verify', { token: ck.access });
    assert.equal(broken.status, 200, broken.text);
    assert.equal(broken.body.ok, false);
    assert.equal(broken.body.subtrees.ok, false);
    assert.deepEqual([broken.body.subtrees.first_bad.level, broken.body.subtrees.first_bad.index], [8, 1]);
    const body = await proveInclusion(positions[0], cp.tree_size);
    const ipath = body.audit_path.map((x) => Buffer.from(x, 'hex'));
    assert.ok(!verifyInclusion(0, cp.tree_size, leafHash(inputs[0]), ipath, Buffer.from(cp.root_hash, 'hex')), 'a proof from a changed hash verified');
  } finally {
    await tamper(`decode('${good}', 'hex')`);
  }
  const repaired = await request('GET', '/api/v1/access-logs/verify', { token: ck.access });
  assert.equal(repaired.body.ok, true, JSON.stringify(repaired.body));
});
