import { CfnResource, Duration, Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
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
export const DB_USER = 'switchboard';
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
  /** Secret whose whole value is the apps' DATABASE_URL, TLS verified against the RDS CA. */
  readonly urlSecret: secretsmanager.Secret;

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

    const secret = this.cluster.secret!;
    this.urlSecret = new secretsmanager.Secret(this, 'Url', {
      description: 'Switchboard DATABASE_URL (postgres://…?sslmode=verify-full)',
      secretStringValue: SecretValue.unsafePlainText(
        Fn.join('', [
          `postgres://${DB_USER}:`,
          secret.secretValueFromJson('password').unsafeUnwrap(),
          '@',
          this.cluster.clusterEndpoint.hostname,
          ':',
          String(DB_PORT),
          `/${DB_NAME}?sslmode=verify-full&sslrootcert=${RDS_CA_BUNDLE}`,
        ]),
      ),
    });

    // Retained with everything it needs to keep running or to be restored: instances, master
    // secret, parameter and subnet groups, security group, logs, the URL. Deleting the data stack
    // then succeeds and leaves a working, deletion-protected cluster behind.
    for (const child of this.node.findAll()) {
      if (CfnResource.isCfnResource(child)) child.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }
}
