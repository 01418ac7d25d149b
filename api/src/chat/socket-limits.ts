import type { Socket } from 'socket.io';

type EngineTransport = { maxHttpBufferSize?: number; socket?: { _receiver?: { _maxPayload?: unknown } } };
const granted = new WeakSet<object>();

/**
 * Raises the largest accepted frame of one connection once it has authenticated. Engine.IO has one
 * server-wide limit (kept small, so a connection that has not shown a valid token cannot make the
 * server buffer a 30 MB frame); an authenticated one gets the chat allowance for its transport
 * now and for the transport it may upgrade to. Polling checks the transport's `maxHttpBufferSize`
 * on every POST; the WebSocket transport's `ws` receiver checks each frame's declared length
 * against its `_maxPayload` before buffering it (ws 8 has no public per-connection setter; the
 * security tests send a large frame to catch a ws upgrade that moves it).
 */
export function grantFrameAllowance(socket: Socket, bytes: number): void {
  const conn = socket.conn as unknown as { transport: EngineTransport; on(event: 'upgrade', fn: (t: EngineTransport) => void): void };
  if (granted.has(conn)) return;
  granted.add(conn);
  const apply = (transport: EngineTransport) => {
    if (typeof transport.maxHttpBufferSize === 'number') transport.maxHttpBufferSize = bytes;
    const receiver = transport.socket?._receiver;
    if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
  };
  apply(conn.transport);
  conn.on('upgrade', (transport: EngineTransport) => apply(transport));
}
