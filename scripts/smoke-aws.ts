/**
 * `npm run smoke:aws` — checks the model catalog against real Amazon Bedrock with the same request
 * building the worker uses: per model one short streamed chat for each parameter combination the
 * portal offers, a thinking turn, a cached second turn and a small summarize call. Prints a
 * pass/fail table with Bedrock's error text; exits 1 when any check failed.
 *
 * Needs AWS credentials (the SDK's chain) and AWS_REGION; MODELS_FILE picks the catalog (default:
 * the built-in one); `--model <id>` (repeatable) limits the run. Run `npm run build` first.
 * Costs a few cents per model.
 */
import { parseArgs } from 'node:util';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { formatSmokeTable, loadCatalog, runSmoke, smokeCases } from '@switchboard/server-core';
// The worker's transport (HTTP/1.1 keep-alive), so the check covers what production sends.
import { bedrockRequestHandler } from '../worker/dist/bedrock/bedrock-client.js';

const { values } = parseArgs({ options: { model: { type: 'string', multiple: true } } });
const catalog = loadCatalog(process.env['MODELS_FILE']).filter((m) => !values.model?.length || values.model.includes(m.id));
if (catalog.length === 0) {
  process.stderr.write('No catalog model matches --model.\n');
  process.exit(2);
}
const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
if (!region) {
  process.stderr.write('Set AWS_REGION (and AWS credentials) to run the smoke check against Bedrock.\n');
  process.exit(2);
}
const client = new BedrockRuntimeClient({ region, maxAttempts: 2, requestHandler: bedrockRequestHandler() });
const call = (input: unknown, stream: boolean) =>
  client.send(stream ? new ConverseStreamCommand(input as ConverseStreamCommandInput) : new ConverseCommand(input as ConverseStreamCommandInput));

const cases = smokeCases(catalog);
process.stdout.write(`Bedrock smoke check in ${region}: ${catalog.length} models, ${cases.length} checks\n\n`);
const results = await runSmoke(call, cases);
process.stdout.write(`${formatSmokeTable(results)}\n\n`);
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(failed ? `${failed} of ${results.length} checks failed.\n` : `All ${results.length} checks passed.\n`);
client.destroy();
process.exit(failed ? 1 : 0);
