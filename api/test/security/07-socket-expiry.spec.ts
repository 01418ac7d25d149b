import { io, type Socket } from 'socket.io-client';
import { type FakeIdp, oidcEnv, startFakeIdp } from '../support/fake-idp.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

const connect = (url: string, token: string, path = '/chat') =>
  new Promise<Socket>((resolve, reject) => {
    const socket = io(`${url}${path}`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => (socket.close(), reject(err)));
  });

/** Waits until the wall clock is past `exp` (seconds) by `marginMs`. */
const pastExp = async (exp: number, marginMs: number) => {
  const wait = exp * 1000 + marginMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
};

describe('security 7: sockets follow the token', () => {
  let idp: FakeIdp;
  let api: TestApi;

  beforeAll(async () => {
    idp = await startFakeIdp();
    api = await startTestApi(oidcEnv(idp));
  });
  afterAll(async () => {
    await api?.stop();
    await idp?.close();
  });

  /** A portal token that expires at the next whole second at least 2 s away. */
  const shortToken = async () => {
    const exp = Math.ceil(Date.now() / 1000) + 2;
    return { exp, token: await idp.sign({ sub: 'u-exp', aud: 'portal-client', username: 'exp', exp }, { expiresIn: null }) };
  };

  it('refuses an event after exp with unauthorized and disconnects the socket', async () => {
    const { exp, token } = await shortToken();
    const socket = await connect(api.url, token);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    // Before exp the same event is handled (here: a validation error for an unknown job).
    const early = (await socket.timeout(10_000).emitWithAck('chat:cancel', { jobId: 'nope' })) as { ok: boolean; error?: { code: string } };
    expect(early.error?.code).not.toBe('unauthorized');
    await pastExp(exp, 150);
    const ack = (await socket.timeout(10_000).emitWithAck('chat:send', { content: [{ type: 'text', text: 'hello' }] })) as unknown;
    expect(ack).toEqual({ ok: false, error: { code: 'unauthorized', message: expect.any(String) } });
    expect(await disconnected).toBe('io server disconnect');
  });

  it('cuts an idle socket once its token has expired, and a fresh token connects again', async () => {
    const { token } = await shortToken();
    const socket = await connect(api.url, token);
    expect(await new Promise<string>((resolve) => socket.once('disconnect', resolve))).toBe('io server disconnect');
    const renewed = await connect(api.url, await idp.sign({ sub: 'u-exp', aud: 'portal-client', username: 'exp' }));
    expect(renewed.connected).toBe(true);
    renewed.close();
  });

  it('never gives an unauthenticated connection the large frame allowance', async () => {
    // A connection that never showed a valid token (here: the default namespace, which has no
    // gateway) sends a 1 MB packet: the server must drop the connection, not buffer the frame.
    const probe = io(api.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve) => probe.once('connect', () => resolve()));
    const engine = probe.io.engine;
    const outcome = new Promise<string>((resolve) => {
      engine.once('close', () => resolve('closed'));
      // The server answers a CONNECT to an unknown namespace with CONNECT_ERROR ("4/nope,…") when it accepted the frame.
      engine.on('message', (data: unknown) => typeof data === 'string' && data.startsWith('4/nope') && resolve('accepted'));
    });
    engine.send(`0/nope,${JSON.stringify({ pad: 'x'.repeat(1024 * 1024) })}`);
    expect(await outcome).toBe('closed');
    probe.close();
  });

  it('gives an authenticated socket the chat allowance', async () => {
    const socket = await connect(api.url, await idp.sign({ sub: 'u-big', aud: 'portal-client', username: 'big' }));
    // 2 MB in one frame: far above the unauthenticated limit, inside the chat allowance.
    const ack = (await socket.timeout(20_000).emitWithAck('chat:cancel', { jobId: 'x'.repeat(2 * 1024 * 1024) })) as { ok: boolean; error?: { code: string } };
    expect(ack.ok).toBe(false);
    expect(ack.error?.code).toBe('validation_failed');
    expect(socket.connected).toBe(true);
    socket.close();
  });
});
