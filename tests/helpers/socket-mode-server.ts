// A Socket Mode peer for tests: the WebSocket end Slack runs. It greets the client, sends envelopes
// (slash commands, interactions, events) shaped like Slack's, and resolves with the client's ack.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SocketModeServer {
  url: string;
  connected(): Promise<void>;
  /** Sends one envelope and resolves with the payload the app acknowledged it with. */
  send(type: 'slash_commands' | 'interactive' | 'events_api', payload: unknown): Promise<{ envelope_id: string; payload?: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startSocketModeServer(): Promise<SocketModeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((ok) => wss.once('listening', () => ok()));
  let socket: WebSocket | undefined;
  let onConnect: (() => void) | undefined;
  const acks = new Map<string, (ack: { envelope_id: string; payload?: Record<string, unknown> }) => void>();
  wss.on('connection', (ws) => {
    socket = ws;
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'standin', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0SHIPMATE' } }));
    ws.on('message', (data) => {
      const ack = JSON.parse(String(data)) as { envelope_id: string; payload?: Record<string, unknown> };
      acks.get(ack.envelope_id)?.(ack);
    });
    onConnect?.();
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`,
    connected: () => (socket ? Promise.resolve() : new Promise<void>((ok) => (onConnect = ok))),
    send(type, payload) {
      const envelope_id = randomUUID();
      return new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`no ack for ${type} within 3 s`)), 3000);
        acks.set(envelope_id, (ack) => {
          clearTimeout(timer);
          ok(ack);
        });
        socket?.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
      });
    },
    close: () => new Promise<void>((ok) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => ok());
    }),
  };
}
