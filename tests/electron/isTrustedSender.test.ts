import { describe, expect, it } from 'vitest';
import { isTrustedSender } from '../../main/electron/isTrustedSender';

const packaged = { rendererFileUrl: 'file:///opt/Pentimento/resources/app/out/renderer/index.html' };
const dev = { ...packaged, devServerUrl: 'http://localhost:5173/' };

describe('isTrustedSender', () => {
  it('accepts our built page, with or without a query or hash', () => {
    expect(isTrustedSender(packaged.rendererFileUrl, packaged)).toBe(true);
    expect(isTrustedSender(`${packaged.rendererFileUrl}#/editor`, packaged)).toBe(true);
  });

  it('refuses other local files, remote pages and junk', () => {
    expect(isTrustedSender('file:///home/me/Downloads/evil.html', packaged)).toBe(false);
    expect(isTrustedSender('file:///home/me/photo.png', packaged)).toBe(false);
    expect(isTrustedSender('https://example.com/', packaged)).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', packaged)).toBe(false);
    expect(isTrustedSender('', packaged)).toBe(false);
    expect(isTrustedSender(undefined, packaged)).toBe(false);
    expect(isTrustedSender('not a url', packaged)).toBe(false);
  });

  it('accepts the dev server origin only in development, and not its look-alikes', () => {
    expect(isTrustedSender('http://localhost:5173/index.html', dev)).toBe(true);
    expect(isTrustedSender('http://localhost:5174/', dev)).toBe(false);
    expect(isTrustedSender('http://localhost.evil.com:5173/', dev)).toBe(false);
    expect(isTrustedSender('https://localhost:5173/', dev)).toBe(false);
  });
});
