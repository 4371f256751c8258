/**
 * Whether an IPC message comes from our own renderer page: the built index.html over file://,
 * or, in development, the electron-vite dev server's origin. Anything else (a navigated-away
 * frame, an iframe, a devtools extension page) is refused.
 */
export function isTrustedSender(frameUrl: string | undefined, allowed: { rendererFileUrl: string; devServerUrl?: string }): boolean {
  if (!frameUrl) return false;
  let url: URL;
  try {
    url = new URL(frameUrl);
  } catch {
    return false;
  }
  if (url.protocol === 'file:') {
    return url.pathname === new URL(allowed.rendererFileUrl).pathname;
  }
  if (allowed.devServerUrl) {
    return url.origin === new URL(allowed.devServerUrl).origin;
  }
  return false;
}
