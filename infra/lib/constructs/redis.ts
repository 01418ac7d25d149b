import { Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface RedisProps {
  readonly vpc: ec2.IVpc;
  /** Security group of the tasks allowed to connect. */
  readonly clients: ec2.ISecurityGroup;
  readonly nodeType: string;
  readonly replicas: number;
  /** Cluster mode enabled with this many shards (node groups); absent: one primary with its replicas. */
  readonly shards?: number;
  readonly logRetention: logs.RetentionDays;
}

/** Port off the default, so scans for open 6379s miss it; the apps get it inside REDIS_URL. */
export const REDIS_PORT = 6380;

/**
 * ElastiCache (Redis OSS 7.1) replication group for BullMQ queues, delta streams and quota state:
 * TLS in transit, AUTH token, encrypted at rest, Multi-AZ with automatic failover, and
 * `maxmemory-policy noeviction` so BullMQ never loses keys silently. With `shards`, cluster mode
 * is enabled: that many primaries, each with `replicas`, and the apps connect to the configuration
 * endpoint (REDIS_CLUSTER=true; sharded pub/sub needs the engine's 7.x).
 */
export class Redis extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  /** The AUTH token (the apps' REDIS_PASSWORD, injected by ECS from this secret at task start). */
  readonly authToken: secretsmanager.Secret;
  /** `rediss://<primary>:<port>`, no credentials: the apps' REDIS_URL. */
  readonly url: string;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** Cluster mode enabled: the apps need REDIS_CLUSTER=true. */
  readonly cluster: boolean;
  /** The cache cluster (node) ids, for per-node metrics. */
  readonly nodeIds: string[];

  constructor(scope: Construct, id: string, props: RedisProps) {
    super(scope, id);
    this.cluster = props.shards !== undefined;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Switchboard Redis: TLS from the app tasks only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(props.clients, ec2.Port.tcp(REDIS_PORT), 'Redis (TLS) from api and worker tasks');

    // ElastiCache AUTH tokens: 16-128 printable characters without @, " or /; alphanumerics keep the URL unescaped.
    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'Switchboard Redis AUTH token',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const subnets = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'Switchboard Redis (isolated subnets)',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });

    const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'Switchboard: BullMQ requires noeviction',
      properties: { 'maxmemory-policy': 'noeviction', ...(this.cluster ? { 'cluster-enabled': 'yes' } : {}) },
    });

    const slowLog = new logs.LogGroup(this, 'SlowLog', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: 'Switchboard queues, streams and quota state',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      ...(props.shards !== undefined
        ? { clusterMode: 'enabled', numNodeGroups: props.shards, replicasPerNodeGroup: props.replicas }
        : { numCacheClusters: 1 + props.replicas }),
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: REDIS_PORT,
      // Enabled at creation, the mode is `required` (plain-text connections refused); 'preferred'
      // exists only to migrate an existing cluster.
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      cacheParameterGroupName: parameters.ref,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        {
          destinationType: 'cloudwatch-logs',
          logFormat: 'json',
          logType: 'slow-log',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
        },
      ],
    });

    // No secret in the URL: the token travels separately (REDIS_PASSWORD), so rotating it needs
    // new tasks only, not a template change CloudFormation would skip.
    // Cluster mode: the configuration endpoint, from which clients discover every shard.
    this.url = this.cluster
      ? Fn.join('', ['rediss://', this.replicationGroup.attrConfigurationEndPointAddress, ':', this.replicationGroup.attrConfigurationEndPointPort])
      : Fn.join('', ['rediss://', this.replicationGroup.attrPrimaryEndPointAddress, ':', this.replicationGroup.attrPrimaryEndPointPort]);
    // ElastiCache names nodes <group>-<node> (<group>-<shard>-<node> in cluster mode).
    const group = this.replicationGroup.ref;
    const nodes = Array.from({ length: 1 + props.replicas }, (_, n) => String(n + 1).padStart(3, '0'));
    this.nodeIds = this.cluster
      ? Array.from({ length: props.shards! }, (_, s) => nodes.map((n) => `${group}-${String(s + 1).padStart(4, '0')}-${n}`)).flat()
      : nodes.map((n) => `${group}-${n}`);
  }
}
