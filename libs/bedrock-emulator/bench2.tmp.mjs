import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { readFileSync } from 'node:fs';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const [n, tokens, pid, url] = process.argv.slice(2);
const cpuOf = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
const c0 = cpuOf(); const t0 = performance.now(); let deltas = 0;
await Promise.all(Array.from({ length: Number(n) }, async (_, i) => {
  const out = await client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: `q${i} [[emulator:tokens=${tokens}]]` }] }] }));
  for await (const e of out.stream) if (e.contentBlockDelta) deltas++;
}));
console.log({ n, ms: Math.round(performance.now() - t0), deltas, emulatorCpuMs: cpuOf() - c0 });
client.destroy();
