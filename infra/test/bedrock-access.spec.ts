import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BedrockAccess } from '../lib/constructs/bedrock-access.js';
import { defaultInferenceProfileRegions } from '../lib/params.js';
import { flatten } from './helpers.js';

function synth(modelIds: string[]) {
  const stack = new Stack(new App(), 'BedrockTest', { env: { region: 'eu-west-1', account: '123456789012' } });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  const access = new BedrockAccess(stack, 'Bedrock', { modelIds, profileRegions: defaultInferenceProfileRegions });
  access.grantInvoke(role);
  const template = Template.fromStack(stack);
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
  return policy!.Properties.PolicyDocument.Statement as Array<{ Sid: string; Action: string[]; Resource: unknown[]; Condition?: unknown }>;
}

describe('BedrockAccess', () => {
  it('allows only the two invoke actions on exactly the catalog ARNs', () => {
    const statements = synth(['anthropic.claude-3-haiku-20240307-v1:0', 'eu.anthropic.claude-3-7-sonnet-20250219-v1:0']);
    const direct = statements.find((s) => s.Sid === 'InvokeCatalogModels')!;
    expect(direct.Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    expect(direct.Resource.map(flatten)).toEqual([
      'arn:${AWS::Partition}:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      'arn:${AWS::Partition}:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0',
    ]);
  });

  it("grants a profile's foundation model in every region it routes to, only through that profile", () => {
    const statements = synth(['eu.anthropic.claude-3-7-sonnet-20250219-v1:0']);
    const routed = statements.find((s) => s.Sid === 'InvokeModelsThroughCatalogProfiles')!;
    const arns = routed.Resource.map(flatten);
    expect(arns).toHaveLength(defaultInferenceProfileRegions['eu']!.length);
    for (const region of defaultInferenceProfileRegions['eu']!) {
      expect(arns).toContain(`arn:\${AWS::Partition}:bedrock:${region}::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0`);
    }
    expect(JSON.stringify(routed.Condition)).toContain('bedrock:InferenceProfileArn');
    expect(JSON.stringify(routed.Condition)).toContain('inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0');
  });

  it('never grants a wildcard resource or action for foundation models and system profiles', () => {
    const statements = synth([
      'anthropic.claude-3-haiku-20240307-v1:0',
      'us.anthropic.claude-3-5-sonnet-20241022-v2:0',
      'global.anthropic.claude-sonnet-4-20250514-v1:0',
    ]);
    for (const statement of statements) {
      for (const resource of [statement.Resource].flat().map(flatten)) {
        expect(resource).not.toContain('*');
        expect(resource).toMatch(/^arn:/);
      }
      for (const action of statement.Action) expect(action).not.toContain('*');
    }
  });

  it("grants an application inference profile and its foundation models, only through that profile", () => {
    const profile = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3';
    const statements = synth(['anthropic.claude-3-haiku-20240307-v1:0', profile]);
    expect(statements.find((s) => s.Sid === 'InvokeCatalogModels')!.Resource.map(flatten)).toContain(profile);
    const through = statements.find((s) => s.Sid === 'InvokeModelsThroughApplicationProfiles')!;
    expect(through.Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    expect(flatten(through.Resource)).toBe('arn:${AWS::Partition}:bedrock:*::foundation-model/*');
    expect(through.Condition).toEqual({ StringEquals: { 'bedrock:InferenceProfileArn': [profile] } });
  });

  it('has no statement without models', () => {
    const statements = synth(['anthropic.claude-3-haiku-20240307-v1:0']);
    expect(statements).toHaveLength(1);
  });
});
