import { RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Database } from '../constructs/database.js';
import { Redis } from '../constructs/redis.js';
import { acknowledge } from '../nag.js';
import type { Params } from '../params.js';

export interface DataStackProps extends StackProps {
  readonly params: Params;
  readonly vpc: ec2.IVpc;
}

/**
 * Stateful: Redis and Aurora, deployed rarely and protected from deletion. Services join
 * `clients` to reach them, so this stack never depends on the services stack.
 */
export class DataStack extends Stack {
  readonly clients: ec2.SecurityGroup;
  readonly redis: Redis;
  readonly database: Database;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { params, vpc } = props;
    const logRetention = params.logRetentionDays as logs.RetentionDays;

    this.clients = new ec2.SecurityGroup(this, 'DataClients', {
      vpc,
      description: 'Switchboard tasks allowed to reach Redis and Aurora',
      allowAllOutbound: true,
    });
    // The retained database's security group keeps a rule naming this group.
    this.clients.applyRemovalPolicy(RemovalPolicy.RETAIN);

    const { clusterMode, shards, ...redis } = params.redis;
    this.redis = new Redis(this, 'Redis', { vpc, clients: this.clients, ...redis, shards: clusterMode ? shards : undefined, logRetention });
    this.database = new Database(this, 'Database', {
      vpc,
      clients: this.clients,
      ...params.database,
      logRetention,
      clusterIdentifier: `${params.prefix.toLowerCase()}-db`,
    });

    acknowledge(
      this.redis.authToken,
      'AwsSolutions-SMG4',
      'ElastiCache AUTH rotation is a two-step ROTATE/SET operation on the replication group, not a Secrets Manager rotation; rotate with the runbook (docs/deploy.md, Rotation) and force new service tasks (REDIS_PASSWORD is read at task start).',
    );
    acknowledge(
      this.database.appSecret,
      'AwsSolutions-SMG4',
      'The app role password is applied to the cluster by the migrate task (a deploy step): rotate by changing the secret, rerunning the migrate task and forcing new service tasks (docs/deploy.md, Rotation); no rotation Lambda to keep in sync.',
    );
    acknowledge(
      this.database.cluster,
      'AwsSolutions-SMG4',
      'The master user serves only the migrate task; ECS reads its password key at task start, so a rotation needs no stack update. Managed single-user rotation can be switched on later; the runbook rotates it by hand (docs/deploy.md, Rotation).',
    );
    acknowledge(
      this.database.cluster,
      'AwsSolutions-RDS6',
      'The apps connect with a password over verified TLS (pg with sslmode=verify-full); IAM auth tokens would need a token-refreshing pool in both apps. Access is also limited to the app security group.',
    );
  }
}
