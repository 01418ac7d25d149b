import { type Socket, connect, createServer } from 'node:net';

export type TcpProxy = {
  port: number;
  /** Drops every connection and refuses new ones: the service behind it is gone. */
  cut(): void;
  /** Keeps connections open but passes no bytes either way: the service hangs (a black hole). */
  stall(): void;
  /** Holds what clients send for `ms` before passing it on (0: at once), like a slow network path. */
  delayRequests(ms: number): void;
  /** Lets connections through again (and without delay). */
  restore(): void;
  close(): Promise<void>;
};

/** A TCP proxy on a free local port, for cutting a process off from Postgres or Redis mid-test. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  let stalled = false;
  let requestDelayMs = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
    // A chunk never overtakes an earlier one, also when the delay changes meanwhile.
    let lastDue = 0;
    client.on('data', (chunk) => {
      const due = Math.max(Date.now() + requestDelayMs, lastDue);
      lastDue = due;
      if (due <= Date.now()) upstream.write(chunk);
      else setTimeout(() => upstream.write(chunk), due - Date.now());
    });
    client.on('end', () => (lastDue > Date.now() ? setTimeout(() => upstream.end(), lastDue - Date.now()) : upstream.end())); // after held chunks
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      stalled = true;
      for (const socket of sockets) socket.pause();
    },
    delayRequests(ms) {
      requestDelayMs = ms;
    },
    restore() {
      open = true;
      stalled = false;
      requestDelayMs = 0;
      for (const socket of sockets) socket.resume();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
