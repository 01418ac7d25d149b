import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Network } from '../lib/constructs/network.js';

describe('Network', () => {
  let template: Template;
  beforeAll(() => {
    const stack = new Stack(new App(), 'Net', { env: { region: 'eu-west-1' } });
    new Network(stack, 'Network', { maxAzs: 2, natGateways: 2, interfaceEndpoints: true, logRetention: logs.RetentionDays.ONE_MONTH });
    template = Template.fromStack(stack);
  });

  it('has public, private-with-egress and isolated subnets in two AZs with two NAT gateways', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('logs rejected flows', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs' });
  });

  it('has endpoints for S3 (gateway), ECR, logs, Secrets Manager and Bedrock Runtime', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'bedrock-runtime']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: Match.stringLikeRegexp(`\\.${service.replace('.', '\\.')}$`),
      });
    }
  });
});
