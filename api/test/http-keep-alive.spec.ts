import { connect, type Socket } from 'node:net';
import { type TestApi, startTestApi } from './support/test-api.js';

/** The ALB's idle timeout in the CDK stack (infra/lib/constructs/api-service.ts, ALB_IDLE_TIMEOUT_SECONDS). */
const albIdleTimeoutMs = 300_000;

/** Sends one keep-alive GET on an open socket and resolves with the status line, or rejects if the server closed it. */
function get(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString();
      if (data.includes('\r\n\r\n')) {
        cleanup();
        resolve(data.split('\r\n')[0]!);
      }
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the server closed the keep-alive connection'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`);
  });
}

/** Issue 13: behind an ALB idle timeout of 300 s, Node's 5 s keep-alive default gives intermittent 502s. */
describe('HTTP keep-alive behind the load balancer', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.stop());

  it('keeps idle connections and accepts headers longer than the ALB idle timeout', async () => {
    const server = api.app.getHttpServer();
    expect(server.keepAliveTimeout).toBeGreaterThan(albIdleTimeoutMs);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
  });

  it('serves a second request on a connection left idle past Node’s old 5 s default', async () => {
    const { port } = new URL(api.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    try {
      expect(await get(socket, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
      await new Promise((r) => setTimeout(r, 6500));
      expect(await get(socket, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  }, 20_000);
});
