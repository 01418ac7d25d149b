import { startEmulator } from './dist/index.js';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const [n, tps, tokens] = process.argv.slice(2).map(Number);
const emu = await startEmulator({ tps, ttfbMs: 50, port: 0 });
const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
const t0 = performance.now(); const cpu0 = process.cpuUsage();
let deltas = 0;
await Promise.all(Array.from({ length: n }, async (_, i) => {
  const out = await client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: `q${i} [[emulator:tokens=${tokens}]]` }] }] }));
  for await (const e of out.stream) if (e.contentBlockDelta) deltas++;
}));
const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log({ n, tps, tokens, ms: Math.round(ms), ideal: Math.round(50 + tokens * 1000 / tps), deltas, cpuMs: Math.round((cpu.user + cpu.system) / 1000) , stats: emu.stats().streams});
client.destroy(); await emu.close();
