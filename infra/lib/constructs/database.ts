import { CfnResource, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly clients: ec2.ISecurityGroup;
  readonly minAcu: number;
  readonly maxAcu: number;
  readonly readers: number;
  readonly backupRetentionDays: number;
  readonly logRetention: logs.RetentionDays;
  /** Cluster identifier; fixes the name of the PostgreSQL log group created here. */
  readonly clusterIdentifier: string;
}

export const DB_PORT = 5433;
export const DB_NAME = 'switchboard';
/** The master user: the migrate task only. */
export const DB_USER = 'switchboard';
/** The services' own login role, created and kept in sync by the migrate task: DML, no DDL. */
export const APP_DB_USER = 'switchboard_app';
/** Where the api/worker images keep the RDS CA bundle (see api/Dockerfile). */
export const RDS_CA_BUNDLE = '/app/certs/rds-global-bundle.pem';

// Generated passwords stay alphanumeric so they can sit in a URL without percent-encoding.
const URL_UNSAFE = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;

/**
 * Aurora PostgreSQL Serverless v2: the system of record (conversations, messages, jobs, usage).
 * Encrypted, deletion-protected and retained when the stack is deleted.
 */
export class Database extends Construct {
  readonly cluster: rds.DatabaseCluster;
  readonly securityGroup: ec2.SecurityGroup;
  /** `{ username: switchboard_app, password }`: the services' credentials (DATABASE_PASSWORD). */
  readonly appSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Switchboard Aurora PostgreSQL: from the app tasks only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(props.clients, ec2.Port.tcp(DB_PORT), 'PostgreSQL from api and worker tasks');

    const readers = Array.from({ length: props.readers }, (_, i) =>
      // Scales with the writer so a failover lands on an instance already sized for the load.
      rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { scaleWithWriter: true }),
    );

    // Created here with a retention, instead of cloudwatchLogsRetention's custom-resource Lambda.
    const postgresLog = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/cluster/${props.clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier: props.clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_5 }),
      credentials: rds.Credentials.fromGeneratedSecret(DB_USER, { excludeCharacters: URL_UNSAFE }),
      defaultDatabaseName: DB_NAME,
      port: DB_PORT,
      writer: rds.ClusterInstance.serverlessV2('Writer'),
      readers,
      serverlessV2MinCapacity: props.minAcu,
      serverlessV2MaxCapacity: props.maxAcu,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      storageEncrypted: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      backup: { retention: Duration.days(props.backupRetentionDays) },
      copyTagsToSnapshot: true,
      cloudwatchLogsExports: ['postgresql'],
      parameters: { 'rds.force_ssl': '1' },
    });

    this.cluster.node.addDependency(postgresLog);

    this.appSecret = new secretsmanager.Secret(this, 'AppUser', {
      description: `Switchboard database role ${APP_DB_USER} (the services); the migrate task sets it on the cluster`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: APP_DB_USER }),
        generateStringKey: 'password',
        excludeCharacters: URL_UNSAFE,
        passwordLength: 32,
      },
    });

    // Retained with everything it needs to keep running or to be restored: instances, master
    // and app secrets, parameter and subnet groups, security group, logs. Deleting the data stack
    // then succeeds and leaves a working, deletion-protected cluster behind.
    for (const child of this.node.findAll()) {
      if (CfnResource.isCfnResource(child)) child.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }

  /** DATABASE_URL for `user`, no password (DATABASE_PASSWORD comes from a secret), TLS verified against the RDS CA. */
  urlFor(user: string): string {
    return Fn.join('', [
      `postgres://${user}@`,
      this.cluster.clusterEndpoint.hostname,
      `:${DB_PORT}/${DB_NAME}?sslmode=verify-full&sslrootcert=${RDS_CA_BUNDLE}`,
    ]);
  }
}
