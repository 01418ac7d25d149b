import type { Socket } from 'socket.io';

type EngineTransport = { name?: string; maxHttpBufferSize?: number; socket?: { _receiver?: { _maxPayload?: unknown } } };
type EngineSocket = { transport: EngineTransport; request?: unknown; on(event: 'upgrade', fn: (this: EngineSocket, t: EngineTransport) => void): void };

/** The allowance each engine connection was granted (set once it has authenticated). */
const allowance = new WeakMap<object, number>();

function apply(transport: EngineTransport, bytes: number): void {
  if (typeof transport.maxHttpBufferSize === 'number') transport.maxHttpBufferSize = bytes;
  const receiver = transport.socket?._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
}

/** One listener for every connection (`this` is the engine socket): no closure per connection. */
function onUpgrade(this: EngineSocket, transport: EngineTransport): void {
  const bytes = allowance.get(this);
  if (bytes !== undefined) apply(transport, bytes);
}

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
  const conn = socket.conn as unknown as EngineSocket;
  if (allowance.has(conn)) return;
  allowance.set(conn, bytes);
  apply(conn.transport, bytes);
  // A WebSocket connection does not upgrade any further: only polling needs to follow the upgrade.
  if (conn.transport.name !== 'websocket') conn.on('upgrade', onUpgrade);
}

/**
 * Lets go of what a connected socket no longer needs from its handshake: the raw token (verified;
 * the socket keeps the principal and `exp`) and the HTTP request that opened the connection, with
 * its headers (Socket.IO's own advice for memory: it reads the request only to build the handshake).
 */
export function shedHandshake(socket: Socket): void {
  socket.handshake.auth = {};
  socket.handshake.headers = {};
  (socket.conn as unknown as EngineSocket).request = undefined;
}
