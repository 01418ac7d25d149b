import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ApiService } from '../constructs/api-service.js';
import { BedrockAccess } from '../constructs/bedrock-access.js';
import { Images } from '../constructs/images.js';
import { Monitoring } from '../constructs/monitoring.js';
import { WorkerService } from '../constructs/worker-service.js';
import type { Auth } from '../constructs/auth.js';
import type { Database } from '../constructs/database.js';
import type { Redis } from '../constructs/redis.js';
import { acknowledge } from '../nag.js';
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

  constructor(scope: Construct, id: string, props: ServicesStackProps) {
    super(scope, id, props);
    const { params, vpc } = props;
    const logRetention = params.logRetentionDays as logs.RetentionDays;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      // Also the source of RunningTaskCount, the denominator of the workers' backlog-per-task metric.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // Imported immutable: the target-group wiring must not write ALB rules into the data stack.
    const dataClients = ec2.SecurityGroup.fromSecurityGroupId(this, 'DataClients', props.dataClients.securityGroupId, {
      mutable: false,
    });

    const images = new Images(this, 'Images');
    this.bedrock = new BedrockAccess(this, 'BedrockAccess', {
      modelIds: params.models.map((m) => m.id),
      profileRegions: params.inferenceProfileRegions,
    });

    const environment = {
      AWS_REGION: this.region,
      BEDROCK_MODE: 'aws',
      AUTH_MODE: 'oidc',
      AUTH_ISSUER: props.auth.issuer,
      // The portal signs in with this client (GET /v1/client-config).
      AUTH_CLIENT_ID: props.auth.portalClient.userPoolClientId,
      // Cognito's discovery document has no end_session_endpoint: sign-out goes through the hosted UI's /logout.
      AUTH_END_SESSION_URL: `${props.auth.hostedUiUrl}/logout`,
      // AUTH_AUDIENCE stays unset on purpose: the API accepts one audience, and client-credentials
      // access tokens carry the batch client's id. The issuer is this deployment's own pool, whose
      // clients ops create; job routes are gated by the switchboard/jobs:* scopes.
      AUTH_ADMIN_GROUP: props.adminGroup,
    };
    const secrets = {
      REDIS_URL: ecs.Secret.fromSecretsManager(props.redis.urlSecret),
      DATABASE_URL: ecs.Secret.fromSecretsManager(props.database.urlSecret),
    };
    const modelsJson = JSON.stringify(params.models);

    this.api = new ApiService(this, 'Api', {
      cluster: this.cluster,
      image: images.api,
      dataClients,
      environment,
      secrets,
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

    this.monitoring = new Monitoring(this, 'Monitoring', {
      dashboardName: params.prefix,
      cluster: this.cluster,
      apiService: this.api.service,
      workerService: this.worker.service,
      loadBalancer: this.api.loadBalancer,
      targetGroup: this.api.targetGroup,
      backlogPerTask: params.worker.backlogPerTask,
      maxWorkers: params.worker.maxTasks,
      alarmTopicArn: params.alarmTopicArn,
    });

    for (const task of [this.api.task, this.worker.task]) {
      acknowledge(
        task.taskDefinition,
        'AwsSolutions-ECS2',
        "Only non-secret configuration (the settings of docs/architecture.md#configuration and the README, and the model catalog) is in environment; REDIS_URL and DATABASE_URL are injected from Secrets Manager.",
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
  }
}
