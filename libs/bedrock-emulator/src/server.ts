import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Req, Res } from './http.js';

/** What an HTTP/2 client sends first when it speaks h2c with prior knowledge (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export type RequestHandler = (req: Req, res: Res) => void;

export interface Transport {
  server: net.Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * One port for HTTP/1.1 and cleartext HTTP/2. Node's `allowHTTP1` only negotiates over TLS (ALPN),
 * and the Bedrock SDK's default handler speaks h2c to http:// endpoints, so the first bytes of
 * each connection decide which server gets the socket.
 */
export function createTransport(handler: RequestHandler): Transport {
  const h1 = http.createServer({ keepAliveTimeout: 65_000 }, handler as http.RequestListener);
  const h2 = http2.createServer(
    // The SDK multiplexes every concurrent call over one session: allow plenty of streams, and
    // room for their buffered output (default 10 MB would reset a busy session).
    { settings: { maxConcurrentStreams: 10_000 }, maxSessionMemory: 256 },
    handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Resets from clients that abort are routine; without a listener they would throw.
    socket.on('error', () => socket.destroy());
    sniff(socket, (isH2) => (isH2 ? h2 : h1).emit('connection', socket));
  });

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.removeListener('error', reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Reads until the bytes either match the h2 preface in full or diverge, then puts them back. */
function sniff(socket: net.Socket, dispatch: (isH2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
    const n = Math.min(seen.length, H2_PREFACE.length);
    const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isH2 && seen.length < H2_PREFACE.length) return;
    socket.removeListener('readable', onReadable);
    socket.unshift(seen);
    dispatch(isH2);
  };
  socket.on('readable', onReadable);
}
