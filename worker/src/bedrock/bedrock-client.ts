import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { AppConfig } from '@switchboard/server-core';

/**
 * The real SDK, against Bedrock or the emulator (AWS_ENDPOINT_URL_BEDROCK_RUNTIME). The SDK's own
 * retries are off: every retry goes back through the queue so the quota governor counts it.
 */
export function createBedrockClient(config: AppConfig): BedrockRuntimeClient {
  if (config.bedrockMode === 'emulator' && !config.aws.bedrockEndpoint) {
    throw new Error('BEDROCK_MODE=emulator needs AWS_ENDPOINT_URL_BEDROCK_RUNTIME (start one with `npm run emulator`)');
  }
  const useDummyCredentials = config.bedrockMode === 'emulator' && !config.aws.credentialsPresent;
  return new BedrockRuntimeClient({
    region: config.aws.region,
    maxAttempts: 1,
    ...(config.aws.bedrockEndpoint ? { endpoint: config.aws.bedrockEndpoint } : {}),
    ...(useDummyCredentials ? { credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } } : {}),
  });
}

const retryableErrorNames = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelStreamErrorException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'TimeoutError',
]);
const networkErrorCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR']);

/** Whether another attempt may succeed: throttling, 5xx, stream errors and network failures. */
export function isRetryableBedrockError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.name && retryableErrorNames.has(e.name)) return true;
  if (e?.code && networkErrorCodes.has(e.code)) return true;
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

/** A contract error code for a Bedrock failure. */
export function errorCodeOf(err: unknown): 'throttled' | 'model_not_found' | 'bad_request' | 'model_error' {
  const name = (err as { name?: string })?.name;
  if (name === 'ThrottlingException') return 'throttled';
  if (name === 'ResourceNotFoundException') return 'model_not_found';
  if (name === 'ValidationException') return 'bad_request';
  return 'model_error';
}
