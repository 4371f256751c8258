import { WireClient } from '../../../main/contract/WireClient';
import type { EngineApi } from '../../../main/contract/contract';

/**
 * Browser mode's EngineApi: the same wire protocol as the desktop app, over a WebSocket to the
 * `npm run web` server. The server's token comes from the page URL (the cookie it set covers
 * reloads without it). The socket is opened on first use and reopened after a drop.
 */
export function createWebApi(location: Location): EngineApi {
  const token = new URLSearchParams(location.search).get('token');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/engine${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  let socket: WebSocket | undefined;
  const queued: string[] = [];

  function connect(): WebSocket {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return socket;
    const ws = new WebSocket(url);
    ws.onopen = () => {
      for (const text of queued.splice(0)) ws.send(text);
    };
    ws.onmessage = (event) => {
      try {
        client.receive(JSON.parse(String(event.data)));
      } catch {
        // Not our protocol; ignore.
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      queued.length = 0;
      client.failAll({
        code: 'INTERNAL',
        message: 'Lost the connection to the Pentimento server. Check that `npm run web` is still running, then reload this page.',
      });
    };
    socket = ws;
    return ws;
  }

  const client = new WireClient((message) => {
    const ws = connect();
    const text = JSON.stringify(message);
    if (ws.readyState === WebSocket.OPEN) ws.send(text);
    else queued.push(text);
  });
  return client.api();
}
