import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Redis, REDIS_PORT } from '../lib/constructs/redis.js';
import { buildApp, flatten, params, stackWithVpc } from './helpers.js';

describe('Redis in cluster mode (issue 20)', () => {
  let template: Template;
  beforeAll(() => {
    const { stack, vpc, clients } = stackWithVpc();
    new Redis(stack, 'Redis', { vpc, clients, nodeType: 'cache.r7g.large', replicas: 2, shards: 3, logRetention: logs.RetentionDays.ONE_MONTH });
    template = Template.fromStack(stack);
  });

  it('deploys shards with replicas each, TLS, AUTH and failover as the single-primary group', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'enabled',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      NumCacheClusters: Match.absent(),
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AuthToken: Match.anyValue(),
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      Port: REDIS_PORT,
    });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis7',
      Properties: { 'maxmemory-policy': 'noeviction', 'cluster-enabled': 'yes' },
    });
  });

  it('is off by default and validated', () => {
    expect(params().redis).toMatchObject({ clusterMode: false, shards: 3 });
    expect(params({ redis: { clusterMode: true, shards: 5 } }).redis).toMatchObject({ clusterMode: true, shards: 5 });
    expect(() => params({ redis: { clusterMode: true, shards: 0 } })).toThrow(/redis\.shards/);
  });

  it('gives the apps the configuration endpoint and REDIS_CLUSTER=true, and watches every node', () => {
    const built = buildApp({ redis: { clusterMode: true, shards: 3, replicas: 1 } });
    const data = Template.fromStack(built.data);
    data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { ClusterMode: 'enabled', NumNodeGroups: 3, ReplicasPerNodeGroup: 1 });
    const outputs = JSON.stringify(data.toJSON().Outputs);
    expect(outputs).toContain('ConfigurationEndPoint.Address');
    expect(outputs).not.toContain('PrimaryEndPoint.Address');
    const services = Template.fromStack(built.services).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const containers = Object.values(services)
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .map((td) => (td.Properties.ContainerDefinitions as { Name: string; Environment: { Name: string; Value: unknown }[] }[])[0]!)
      .filter((c) => c.Name === 'api' || c.Name === 'worker');
    expect(containers).toHaveLength(2);
    for (const container of containers) {
      const env = Object.fromEntries(container!.Environment.map((e) => [e.Name, e.Value]));
      expect(env.REDIS_CLUSTER).toBe('true');
      expect(flatten(env.REDIS_URL)).toMatch(/^rediss:\/\/\$\{Fn::ImportValue\}:\$\{Fn::ImportValue\}$/);
    }
    const dashboards = JSON.stringify(Object.values(services).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard'));
    for (const node of ['-0001-001', '-0001-002', '-0002-001', '-0003-002']) expect(dashboards).toContain(node);
  });

  it('keeps the single-primary group without REDIS_CLUSTER by default', () => {
    const built = buildApp();
    Template.fromStack(built.data).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 2, ClusterMode: Match.absent() });
    const services = JSON.stringify(Template.fromStack(built.services).toJSON());
    expect(services).not.toContain('REDIS_CLUSTER');
  });
});
