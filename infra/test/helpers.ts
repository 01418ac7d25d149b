import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { APP_CONTEXT, createSwitchboardApp } from '../lib/app.js';
import { parseParams, type ParamsInput } from '../lib/params.js';

export const CATALOG = [
  {
    id: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
    name: 'Claude Sonnet 4.5 (EU profile)',
    vision: true,
    documents: true,
    maxOutputTokens: 64000,
    contextWindow: 200000,
    quota: { requestsPerMinute: 50, tokensPerMinute: 400000 },
    price: { inputPer1k: 0.003, outputPer1k: 0.015 },
    default: true,
  },
  {
    id: 'anthropic.claude-3-haiku-20240307-v1:0',
    name: 'Claude 3 Haiku',
    vision: true,
    documents: true,
    maxOutputTokens: 4096,
    contextWindow: 200000,
    quota: { requestsPerMinute: 200, tokensPerMinute: 800000 },
    price: { inputPer1k: 0.00025, outputPer1k: 0.00125 },
  },
];

export const CERT_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff';

export function params(overrides: Partial<ParamsInput> = {}) {
  return parseParams({ region: 'eu-west-1', models: CATALOG, ...overrides });
}

/** The whole app, synthesized with cdk-nag (a violation throws). */
export function buildApp(overrides: Partial<ParamsInput> = {}) {
  const built = createSwitchboardApp(params(overrides), new App({ context: APP_CONTEXT }));
  const assembly = built.app.synth();
  return { ...built, assembly };
}

/** A bare stack with a three-tier VPC, for testing one construct at a time. */
export function stackWithVpc() {
  const app = new App({ context: APP_CONTEXT });
  const stack = new Stack(app, 'Test', { env: { region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
  return { app, stack, vpc, clients };
}

/** Every string in a (resolved) CloudFormation value, with intrinsic functions flattened to text. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join('');
  if (value && typeof value === 'object') {
    const [key, inner] = Object.entries(value)[0] ?? [];
    if (key === 'Ref') return `\${${String(inner)}}`;
    if (key === 'Fn::Join') return (inner as [string, unknown[]])[1].map(flatten).join((inner as [string])[0]);
    if (key === 'Fn::GetAtt') return `\${${(inner as string[]).join('.')}}`;
    return `\${${key}}`;
  }
  return String(value);
}
