// mail.mjs - the SMTP sink's mailbox: SESSHU_TEST_MAIL_DIR holds one raw RFC 5322 message per
// file (<ns>.eml). A small parser: unfolded headers, RFC 2047 encoded words, multipart, and
// quoted-printable / base64 bodies in UTF-8.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { need } from './env.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function splitHead(buf) {
  const s = buf.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return { head: s, body: Buffer.alloc(0) };
  return { head: s.slice(0, m.index), body: buf.subarray(m.index + m[0].length) };
}

function parseHeaders(head) {
  const headers = {};
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = Buffer.from(line.slice(i + 1).trim(), 'latin1').toString('utf8');
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

function qpBytes(s) {
  const soft = s.replace(/=\r?\n/g, '');
  const out = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      out.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(soft.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(out);
}

// RFC 2047: =?charset?B|Q?text?= (UTF-8 or ASCII); whitespace between encoded words is dropped.
export function decodeWords(s) {
  return s
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _cs, enc, text) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' '));
      return bytes.toString('utf8');
    });
}

function param(value, name) {
  const m = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

function decodeBody(headers, body) {
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase().trim();
  if (cte === 'base64') return Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') return qpBytes(body.toString('latin1')).toString('utf8');
  return body.toString('utf8');
}

// Text of the message: its text/plain parts (or any text part) joined.
function textOf(headers, body) {
  const ct = headers['content-type'] ?? 'text/plain';
  if (/^multipart\//i.test(ct)) {
    const boundary = param(ct, 'boundary');
    if (!boundary) return body.toString('utf8');
    const parts = body.toString('latin1').split(`--${boundary}`).slice(1);
    const texts = [];
    for (const p of parts) {
      if (p.startsWith('--')) break;
      const { head, body: pb } = splitHead(Buffer.from(p.replace(/^\r?\n/, ''), 'latin1'));
      const ph = parseHeaders(head);
      const pct = ph['content-type'] ?? 'text/plain';
      if (/^multipart\//i.test(pct) || /^text\/plain/i.test(pct)) texts.push(textOf(ph, pb));
    }
    return texts.join('\n');
  }
  return decodeBody(headers, body);
}

export function parseMessage(buf) {
  const { head, body } = splitHead(buf);
  const headers = parseHeaders(head);
  return {
    headers,
    subject: decodeWords(headers.subject ?? ''),
    to: decodeWords(headers.to ?? ''),
    cc: decodeWords(headers.cc ?? ''),
    text: textOf(headers, body),
    raw: buf.toString('utf8'),
  };
}

function dir() {
  return need('SESSHU_TEST_MAIL_DIR');
}

function files() {
  try {
    return readdirSync(dir()).filter((f) => f.endsWith('.eml'));
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
}

// Names of the messages there now (take before an action, to see only what it sends).
export function snapshot() {
  return new Set(files());
}

// To or Cc, or the SMTP envelope the sink records (X-Sink-Rcpt-To).
function addressed(msg, address) {
  const a = address.toLowerCase();
  return `${msg.to} ${msg.cc} ${msg.headers['x-sink-rcpt-to'] ?? ''}`.toLowerCase().includes(a);
}

// Messages to `address` that are not in `before`, oldest first.
export function messagesTo(address, before = new Set()) {
  const out = [];
  const names = files()
    .filter((f) => !before.has(f))
    .sort((x, y) => (x.length - y.length) || (x < y ? -1 : x > y ? 1 : 0));
  for (const f of names) {
    let buf;
    try {
      buf = readFileSync(path.join(dir(), f));
    } catch {
      continue; // being written
    }
    const msg = parseMessage(buf);
    if (addressed(msg, address)) out.push({ file: f, ...msg });
  }
  return out;
}

// Waits for a message to `address` (new since `before`) whose text matches `match` (optional).
export async function waitForMail(address, { before = new Set(), match, timeoutMs = 15_000 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = messagesTo(address, before).filter((m) => !match || match.test(`${m.subject}\n${m.text}`));
    if (found.length > 0) return found[0];
    if (Date.now() > end) {
      assert.fail(`no mail to ${address}${match ? ` matching ${match}` : ''} within ${timeoutMs} ms in ${dir()}`);
    }
    await sleep(100);
  }
}

// Asserts that nothing reaches `address` for `ms`.
export async function expectNoMail(address, { before = new Set(), ms = 1500 } = {}) {
  await sleep(ms);
  const found = messagesTo(address, before);
  assert.equal(found.length, 0, `unexpected mail to ${address}: ${found.map((m) => m.subject).join(' | ')}`);
}

// The reset token in a reset mail: a `token=` URL parameter, a "token: ..." line, or else the
// longest URL-safe run of 20+ characters.
export function extractToken(text) {
  const url = /[?&#]token=([^&\s"'<>]+)/i.exec(text);
  if (url) return decodeURIComponent(url[1]);
  const line = /(?:token|トークン|確認コード|コード)\s*[:：]\s*([A-Za-z0-9_\-.~+/=]{8,})/i.exec(text);
  if (line) return line[1];
  const runs = (text.match(/[A-Za-z0-9_-]{20,}/g) ?? []).sort((a, b) => b.length - a.length);
  return runs[0];
}
