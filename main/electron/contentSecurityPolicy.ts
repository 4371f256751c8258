/**
 * The renderer's Content-Security-Policy, shared by the built index.html (meta tag), Electron's
 * session headers and the browser-mode server. Mantine writes inline styles, hence
 * 'unsafe-inline' for styles only; images come back from the engine as data:/blob: URLs.
 * The dev variant admits Vite's inline React-refresh preamble and its HMR socket.
 */
export function contentSecurityPolicy(opts: { dev?: boolean; header?: boolean } = {}): string {
  const directives = [
    "default-src 'self'",
    opts.dev ? "script-src 'self' 'unsafe-inline'" : "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    opts.dev ? "connect-src 'self' ws: http://localhost:* http://127.0.0.1:*" : "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ];
  // frame-ancestors is ignored (with a console warning) when delivered in a meta tag.
  if (opts.header) directives.push("frame-ancestors 'none'");
  return directives.join('; ');
}
