import { CfnOutput, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ApiService } from '../constructs/api-service.js';
import { BedrockAccess } from '../constructs/bedrock-access.js';
import { RESOURCE_SERVER_ID } from '../constructs/auth.js';
import { APP_DB_USER, DB_USER } from '../constructs/database.js';
import { Images } from '../constructs/images.js';
import { Migration } from '../constructs/migration.js';
import { Monitoring } from '../constructs/monitoring.js';
import { WorkerService } from '../constructs/worker-service.js';
import type { Auth } from '../constructs/auth.js';
import type { Database } from '../constructs/database.js';
import type { Redis } from '../constructs/redis.js';
import { acknowledge, findingArnOf, findingTaskArnsOf } from '../nag.js';
import type { Params } from '../params.js';

export interface ServicesStackProps extends StackProps {
  readonly params: Params;
  readonly vpc: ec2.IVpc;
  readonly dataClients: ec2.ISecurityGroup;
  readonly redis: Redis;
  readonly database: Database;
  readonly auth: Auth;
  readonly adminGroup: string;
}

/**
 * Stateless: images, the ECS cluster, the api service (which also serves the portal) and the
 * worker service. Safe to destroy and redeploy at any time.
 */
export class ServicesStack extends Stack {
  readonly cluster: ecs.Cluster;
  readonly api: ApiService;
  readonly worker: WorkerService;
  readonly bedrock: BedrockAccess;
  readonly monitoring: Monitoring;
  readonly migration: Migration;

  constructor(scope: Construct, id: string, props: ServicesStackProps) {
    super(scope, id, props);
    const { params, vpc } = props;
    const logRetention = params.logRetentionDays as logs.RetentionDays;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      enableFargateCapacityProviders: params.worker.spot,
      // Also the source of RunningTaskCount, the denominator of the workers' backlog-per-task metric.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // Imported immutable: the target-group wiring must not write ALB rules into the data stack.
    const dataClients = ec2.SecurityGroup.fromSecurityGroupId(this, 'DataClients', props.dataClients.securityGroupId, {
      mutable: false,
    });

    const images = new Images(this, 'Images', { workerArm64: params.worker.arm64, rdsCaBundleSha256: params.rdsCaBundleSha256 });
    this.bedrock = new BedrockAccess(this, 'BedrockAccess', {
      modelIds: params.models.map((m) => m.id),
      profileRegions: params.inferenceProfileRegions,
    });

    const environment = {
      AWS_REGION: this.region,
      BEDROCK_MODE: 'aws',
      // Explicit: production refuses to guess the auth mode.
      AUTH_MODE: 'oidc',
      AUTH_ISSUER: props.auth.issuer,
      // The portal signs in with this client (GET /v1/client-config).
      AUTH_CLIENT_ID: props.auth.portalClient.userPoolClientId,
      // Tokens must be for us: ID tokens carry the portal client in `aud`, Cognito access tokens
      // carry their client in `client_id` (portal, or the default batch client).
      AUTH_AUDIENCE: Fn.join(',', [props.auth.portalClient.userPoolClientId, props.auth.batchClient.userPoolClientId]),
      // Cognito scopes arrive as `switchboard/jobs:write`; only this prefix (or none) is accepted.
      AUTH_SCOPE_PREFIX: `${RESOURCE_SERVER_ID}/`,
      // Cognito's discovery document has no end_session_endpoint: sign-out goes through the hosted UI's /logout.
      AUTH_END_SESSION_URL: `${props.auth.hostedUiUrl}/logout`,
      AUTH_ADMIN_GROUP: props.adminGroup,
      // Credentials stay out of the URLs: REDIS_PASSWORD and DATABASE_PASSWORD below.
      REDIS_URL: props.redis.url,
      ...(props.redis.cluster ? { REDIS_CLUSTER: 'true' } : {}),
      DATABASE_URL: props.database.urlFor(APP_DB_USER),
    };
    // Each a single Secrets Manager key, read by the ECS agent at task start: rotation needs only
    // new tasks (force a new deployment), no template change that CloudFormation would skip.
    const secrets = {
      REDIS_PASSWORD: ecs.Secret.fromSecretsManager(props.redis.authToken),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(props.database.appSecret, 'password'),
    };
    // Bearer token for /metrics (the ALB also refuses the path from the internet).
    const metricsToken = new secretsmanager.Secret(this, 'MetricsToken', {
      description: 'Switchboard METRICS_TOKEN (bearer token for the API /metrics endpoint)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const modelsJson = JSON.stringify(params.models);

    this.api = new ApiService(this, 'Api', {
      cluster: this.cluster,
      image: images.api,
      dataClients,
      environment,
      secrets: { ...secrets, METRICS_TOKEN: ecs.Secret.fromSecretsManager(metricsToken) },
      modelsJson,
      ...params.api,
      allowedCidrs: params.allowedCidrs,
      certificateArn: params.certificateArn,
      domainName: params.domainName,
      hostedZone: params.hostedZoneId ? { id: params.hostedZoneId, name: params.hostedZoneName! } : undefined,
      logRetention,
    });

    this.worker = new WorkerService(this, 'Worker', {
      cluster: this.cluster,
      image: images.worker,
      dataClients,
      environment,
      secrets,
      modelsJson,
      bedrock: this.bedrock,
      ...params.worker,
      logRetention,
    });

    // The schema is migrated (and the app role set) by a one-off task before either service rolls.
    this.migration = new Migration(this, 'Migrate', {
      cluster: this.cluster,
      image: images.worker,
      dataClients,
      environment: { DATABASE_URL: props.database.urlFor(DB_USER), APP_DB_USER },
      secrets: {
        DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(props.database.cluster.secret!, 'password'),
        APP_DB_PASSWORD: ecs.Secret.fromSecretsManager(props.database.appSecret, 'password'),
      },
      logRetention,
    });
    if (params.worker.arm64) {
      // The migrate task runs the worker image: same architecture.
      (this.migration.task.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).runtimePlatform = {
        cpuArchitecture: 'ARM64',
        operatingSystemFamily: 'LINUX',
      };
    }
    this.api.service.node.addDependency(this.migration.resource);
    this.worker.service.node.addDependency(this.migration.resource);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      dashboardName: params.prefix,
      cluster: this.cluster,
      apiService: this.api.service,
      workerService: this.worker.service,
      loadBalancer: this.api.loadBalancer,
      targetGroup: this.api.targetGroup,
      backlogPerTask: this.worker.targetBacklogPerTask,
      maxWorkers: params.worker.maxTasks,
      alarmTopicArn: params.alarmTopicArn,
      redisNodeIds: props.redis.nodeIds,
      databaseClusterId: `${params.prefix.toLowerCase()}-db`,
      databaseMaxAcu: params.database.maxAcu,
      modelIds: params.models.map((m) => m.id),
      workerLogGroup: this.worker.task.logGroup,
    });

    for (const task of [this.api.task, this.worker.task, this.migration.task]) {
      acknowledge(
        task.taskDefinition,
        'AwsSolutions-ECS2',
        "Only non-secret configuration (the settings of docs/architecture.md#configuration and the README, credential-free URLs, the model catalog) is in environment; REDIS_PASSWORD, DATABASE_PASSWORD and METRICS_TOKEN are injected from Secrets Manager.",
      );
      acknowledge(
        task.taskDefinition.obtainExecutionRole(),
        'AwsSolutions-IAM5[Resource::*]',
        'ecr:GetAuthorizationToken supports no resource-level permissions (Resource must be *); every other statement of the execution role names its repository, log group or secret.',
      );
    }
    if (params.allowedCidrs.some((c) => c === '0.0.0.0/0')) {
      acknowledge(
        this.api.loadBalancer.connections.securityGroups[0]!,
        'AwsSolutions-EC23',
        'The portal and the batch API are public by design (allowedCidrs defaults to 0.0.0.0/0); every request needs a Cognito token. Narrow with -c allowedCidrs=10.0.0.0/8,… for an internal deployment.',
      );
    }
    if (this.bedrock.applicationProfileArns.length > 0) {
      acknowledge(
        this.bedrock,
        'AwsSolutions-IAM5',
        "An application inference profile's foundation model is known only to Bedrock: foundation-model/* is granted only through the catalog's application profiles (bedrock:InferenceProfileArn condition).",
      );
    }
    acknowledge(
      metricsToken,
      'AwsSolutions-SMG4',
      'A bearer token shared by the API and the in-VPC scraper; rotate by changing the secret and forcing new API tasks (docs/deploy.md, Rotation).',
    );
    acknowledge(
      this.migration,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "The migration runner's Lambda functions (ours and the CDK provider framework's) use AWSLambdaBasicExecutionRole for their own log streams only.",
    );
    acknowledge(
      this.migration,
      `AwsSolutions-IAM5[Resource::${findingTaskArnsOf(this.cluster)}]`,
      'DescribeTasks of the migrate task: task ids exist only at run time, so the resource is every task of this cluster (task/<cluster>/*).',
    );
    const provider = this.migration.node.findChild('Provider');
    for (const fn of [
      this.migration.node.findChild('Start'),
      this.migration.node.findChild('Check'),
      provider.node.findChild('framework-isComplete'),
      provider.node.findChild('framework-onTimeout'),
    ]) {
      acknowledge(
        this.migration,
        `AwsSolutions-IAM5[Resource::${findingArnOf(fn)}:*]`,
        "The CDK provider framework invokes the migration handlers' versions (function ARN:*); it grants exactly these functions, nothing else.",
      );
    }
    acknowledge(
      this.migration,
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the inline handlers are written and tested for; the provider framework picks its own runtime.',
    );
    acknowledge(
      this.migration,
      'AwsSolutions-SF1',
      "The provider framework's waiter state machine only polls the migration handler; its failures surface in the CloudFormation event and the handler's logs.",
    );
    acknowledge(
      this.migration,
      'AwsSolutions-SF2',
      "X-Ray tracing of the provider framework's waiter state machine adds nothing to a once-per-deploy poll.",
    );
    acknowledge(
      this.worker.task.taskDefinition.taskRole,
      `AwsSolutions-IAM5[Resource::${findingTaskArnsOf(this.cluster)}]`,
      'Task scale-in protection acts on the calling task, whose id exists only at run time: task/<this cluster>/*.',
    );
    acknowledge(
      this.api.node.findChild('AccessLogs'),
      'AwsSolutions-S1',
      'This bucket receives the ALB access logs; logging its own access would need a second log bucket with the same question.',
    );

    new CfnOutput(this, 'Url', { value: this.api.url, description: 'Portal and API base URL' });
    new CfnOutput(this, 'LoadBalancerDns', { value: this.api.loadBalancer.loadBalancerDnsName, description: 'CNAME target for domainName' });
    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'ApiServiceName', { value: this.api.service.serviceName });
    new CfnOutput(this, 'WorkerServiceName', { value: this.worker.service.serviceName });
    new CfnOutput(this, 'Dashboard', { value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${params.prefix}` });
    new CfnOutput(this, 'WorkerLogGroup', { value: this.worker.task.logGroup.logGroupName });
    new CfnOutput(this, 'MigrateLogGroup', { value: this.migration.task.logGroup.logGroupName });
    new CfnOutput(this, 'MigrateTaskDefinition', { value: this.migration.task.taskDefinition.taskDefinitionArn });
  }
}
