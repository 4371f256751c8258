import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { JobProgress, JobResult } from '../../main/contract/contract';
import { startWebServer, TOKEN_COOKIE, type WebServer } from '../../main/web/WebServer';
import { FAKE_MODEL, FakeEngine } from './fakeEngine';
import { connect, TestPeer } from './wsClient';

let server: WebServer;
let engine: FakeEngine;
let rendererDir: string;
let origin: string;
let wsUrl: string;

function get(urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function openPeer(): Promise<TestPeer> {
  const ws = await connect(`${wsUrl}?token=${server.token}`, origin);
  if (!('send' in ws)) throw new Error(`refused with ${ws.refused}`);
  return new TestPeer(ws);
}

beforeAll(async () => {
  rendererDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-renderer-'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Pentimento test page</title>');
  writeFileSync(path.join(rendererDir, 'app.js'), 'console.log(1)');
  engine = new FakeEngine(5);
  server = await startWebServer({ engine, rendererDir, port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
  wsUrl = `ws://127.0.0.1:${server.port}/engine`;
});

afterAll(async () => {
  await server?.close();
  rmSync(rendererDir, { recursive: true, force: true });
});

describe('startWebServer', () => {
  it('prints a tokened URL on 127.0.0.1 and a random port, with a long random token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.port).toBeGreaterThan(0);
    expect(Buffer.from(server.token, 'base64url').length).toBe(32);
  });

  it('listens on 127.0.0.1 only: other loopback addresses are refused', async () => {
    const tryConnect = (host: string) =>
      new Promise<string>((resolve) => {
        const s = tcpConnect({ host, port: server.port });
        s.once('connect', () => (s.destroy(), resolve('connected')));
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    expect(await tryConnect('127.0.0.1')).toBe('connected');
    // A socket bound to 127.0.0.1 does not accept 127.0.0.2 (also loopback) nor IPv6 ::1.
    expect(await tryConnect('127.0.0.2')).toBe('ECONNREFUSED');
    expect(['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENETUNREACH']).toContain(await tryConnect('::1'));
  });

  it('refuses HTTP without the token and sets an HttpOnly SameSite=Strict cookie from the tokened URL', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/index.html?token=wrong')).status).toBe(401);
    const first = await get(`/?token=${server.token}`);
    expect(first.status).toBe(200);
    expect(first.body).toContain('Pentimento test page');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain(`${TOKEN_COOKIE}=${server.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(String(first.headers['content-security-policy'])).toContain("script-src 'self'");
    // Static assets load with the cookie alone.
    const asset = await get('/app.js', { Cookie: `${TOKEN_COOKIE}=${server.token}` });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('refuses a foreign Host header and paths outside the renderer folder', async () => {
    expect((await get(`/?token=${server.token}`, { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(`/%2e%2e/%2e%2e/etc/passwd?token=${server.token}`)).status).toBe(404);
    expect((await get(`/nope.js?token=${server.token}`)).status).toBe(404);
  });

  it('refuses WebSocket upgrades without the token, with a wrong Origin, or with no Origin', async () => {
    expect(await connect(wsUrl, origin)).toEqual({ refused: 401 });
    expect(await connect(`${wsUrl}?token=nottheone`, origin)).toEqual({ refused: 401 });
    expect(await connect(`${wsUrl}?token=${server.token}`, 'http://evil.example')).toEqual({ refused: 403 });
    expect(await connect(`${wsUrl}?token=${server.token}`, `http://127.0.0.1:${server.port + 1}`)).toEqual({ refused: 403 });
    expect(await connect(`${wsUrl}?token=${server.token}`)).toEqual({ refused: 403 });
  });

  it('accepts the token cookie instead of the token parameter', async () => {
    const ws = await connect(wsUrl, origin, { Cookie: `${TOKEN_COOKIE}=${server.token}` });
    expect('send' in ws).toBe(true);
    (ws as WebSocket).close();
  });

  it('answers getModelInfo and countTokens', async () => {
    const peer = await openPeer();
    expect(await peer.request('getModelInfo')).toEqual({ type: 'response', id: 1, ok: true, result: FAKE_MODEL });
    const tokens = await peer.request('countTokens', { text: 'a photo of a cat' });
    expect(tokens).toMatchObject({ ok: true, result: { count: 5, max: 75, truncated: false } });
    peer.ws.close();
  });

  it('turns engine failures and unknown methods into error responses with codes', async () => {
    const peer = await openPeer();
    const bad = await peer.request('generate', { kind: 'txt2img', prompt: 'FAIL please' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
    const unknown = await peer.request('formatDisk', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
    if (!unknown.ok) expect(unknown.error.message).toContain('getModelInfo');
    peer.ws.close();
  });

  it('streams progress in step order and then a result the size of the source image', async () => {
    const peer = await openPeer();
    const source = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } }).png().toBuffer();
    const response = await peer.request('generate', {
      kind: 'img2img',
      prompt: 'a cat',
      steps: 3,
      strength: 1, // every step runs (at the default 0.75, ⌊3 · 0.75⌋ = 2 would)
      seed: 7,
      image: { base64: source.toString('base64'), name: 'grey.png' },
    });
    expect(response.ok).toBe(true);
    const { jobId } = (response as { result: { jobId: string } }).result;
    const resultEvent = await peer.nextEvent((e) => e.event === 'result' && (e.payload as JobResult).jobId === jobId);
    const steps = peer.events
      .filter((e) => e.event === 'progress' && (e.payload as JobProgress).jobId === jobId)
      .map((e) => (e.payload as JobProgress).step);
    expect(steps).toEqual([1, 2, 3]);
    const { image } = resultEvent.payload as JobResult;
    const meta = await sharp(Buffer.from(image.pngBase64, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 40, 30]);
    expect([image.width, image.height]).toEqual([40, 30]);
    expect(engine.generateRequests.at(-1)?.image?.name).toBe('grey.png');
    peer.ws.close();
  });

  it('delivers a CANCELLED failure for a cancelled job', async () => {
    const peer = await openPeer();
    const response = await peer.request('generate', { kind: 'txt2img', prompt: 'slow', steps: 50 });
    const { jobId } = (response as { result: { jobId: string } }).result;
    expect(await peer.request('cancel', { jobId })).toMatchObject({ ok: true, result: { cancelled: true } });
    const failed = await peer.nextEvent((e) => e.event === 'failed');
    expect(failed.payload).toMatchObject({ jobId, error: { code: 'CANCELLED' } });
    peer.ws.close();
  });
});
