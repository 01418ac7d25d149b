import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Redis, REDIS_PORT } from '../lib/constructs/redis.js';
import { flatten, stackWithVpc } from './helpers.js';

describe('Redis', () => {
  let template: Template;
  beforeAll(() => {
    const { stack, vpc, clients } = stackWithVpc();
    new Redis(stack, 'Redis', { vpc, clients, nodeType: 'cache.t4g.small', replicas: 1, logRetention: logs.RetentionDays.ONE_MONTH });
    template = Template.fromStack(stack);
  });

  it('requires TLS and AUTH, encrypts at rest and fails over across AZs', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: Match.absent(),
      AtRestEncryptionEnabled: true,
      AuthToken: Match.anyValue(),
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      NumCacheClusters: 2,
      Port: REDIS_PORT,
    });
  });

  it('takes the AUTH token from Secrets Manager, never as plain text', () => {
    const [group] = Object.values(template.findResources('AWS::ElastiCache::ReplicationGroup'));
    expect(flatten(group!.Properties.AuthToken)).toMatch(/^\{\{resolve:secretsmanager:\$\{RedisAuthToken\w+\}:SecretString:::\}\}$/);
  });

  it('runs with maxmemory-policy noeviction', () => {
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis7',
      Properties: { 'maxmemory-policy': 'noeviction' },
    });
  });

  it('keeps the AUTH token out of REDIS_URL: the URL names the primary, the token is its own secret', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', { Properties: { SecretString: Match.anyValue() } });
    expect(Object.keys(secrets)).toEqual([]);
  });

  it('admits only the app tasks, on its port', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: REDIS_PORT,
      ToPort: REDIS_PORT,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clients'), 'GroupId'] },
    });
  });
});
