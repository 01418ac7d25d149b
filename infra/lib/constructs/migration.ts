import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AppTask } from './app-task.js';

/** The image's migrate command (libs/server-core/src/db/migrate.ts). */
export const MIGRATE_COMMAND = ['node', 'libs/server-core/dist/db/migrate.js'];

export interface MigrationProps {
  readonly cluster: ecs.ICluster;
  readonly image: ecs.ContainerImage;
  readonly dataClients: ec2.ISecurityGroup;
  /** DATABASE_URL of the master user, APP_DB_USER. */
  readonly environment: Record<string, string>;
  /** DATABASE_PASSWORD (master), APP_DB_PASSWORD (the services' role). */
  readonly secrets: Record<string, ecs.Secret>;
  readonly logRetention: logs.RetentionDays;
}

// Runs the task once per deployment that changes the task definition (a new image or new settings).
const startCode = `
const { ECSClient, RunTaskCommand } = require('@aws-sdk/client-ecs');
const ecs = new ECSClient({});
exports.handler = async (event) => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const p = event.ResourceProperties;
  const out = await ecs.send(new RunTaskCommand({
    cluster: p.Cluster, taskDefinition: p.TaskDefinition, launchType: 'FARGATE', count: 1, startedBy: 'switchboard-migrate',
    networkConfiguration: { awsvpcConfiguration: { subnets: p.Subnets, securityGroups: p.SecurityGroups, assignPublicIp: 'DISABLED' } },
  }));
  const task = out.tasks && out.tasks[0];
  if (!task) throw new Error('RunTask started no migrate task: ' + JSON.stringify(out.failures));
  return { PhysicalResourceId: 'switchboard-migrate', Data: { TaskArn: task.taskArn } };
};`;

// Polled by the provider framework until the task stopped; a non-zero exit fails the deployment
// before any service rolls (CloudFormation then rolls the stack back).
const checkCode = `
const { ECSClient, DescribeTasksCommand } = require('@aws-sdk/client-ecs');
const ecs = new ECSClient({});
exports.handler = async (event) => {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const arn = event.Data.TaskArn;
  const out = await ecs.send(new DescribeTasksCommand({ cluster: event.ResourceProperties.Cluster, tasks: [arn] }));
  const task = out.tasks && out.tasks[0];
  if (!task || task.lastStatus !== 'STOPPED') return { IsComplete: false };
  const container = (task.containers || []).find((c) => c.name === 'migrate');
  if (container && container.exitCode === 0) return { IsComplete: true, Data: { TaskArn: arn } };
  throw new Error('Migration task ' + arn + ' failed (exit ' + (container && container.exitCode) + ', ' + (task.stoppedReason || '') +
    '); its output is in log group ' + event.ResourceProperties.LogGroup);
};`;

/**
 * Migrations as a deploy step: a one-off Fargate task (the worker image, `migrate` command, master
 * credentials) that a custom resource runs and waits for. Both services depend on it, so they roll
 * only after the schema is current; a failed migration stops the deployment with the old tasks
 * still serving. Migrations stay backward compatible for one release (docs/deploy.md).
 */
export class Migration extends Construct {
  readonly task: AppTask;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationProps) {
    super(scope, id);
    const { partition, region, account } = Stack.of(this);

    this.task = new AppTask(this, 'Task', {
      name: 'migrate',
      image: props.image,
      command: MIGRATE_COMMAND,
      cpu: 256,
      memoryMiB: 512,
      environment: props.environment,
      secrets: props.secrets,
      stopTimeout: Duration.seconds(10),
      logRetention: props.logRetention,
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'Switchboard migrate task: no inbound; outbound to Aurora and the VPC endpoints',
      allowAllOutbound: true,
    });

    const fn = (name: string, code: string, timeout: Duration) =>
      new lambda.Function(this, name, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline(code),
        timeout,
        logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: props.logRetention }),
      });
    const start = fn('Start', startCode, Duration.minutes(1));
    const check = fn('Check', checkCode, Duration.seconds(30));
    start.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [this.task.taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    start.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.task.taskDefinition.taskRole.roleArn, this.task.taskDefinition.obtainExecutionRole().roleArn],
      }),
    );
    check.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks'],
        resources: [`arn:${partition}:ecs:${region}:${account}:task/${props.cluster.clusterName}/*`],
      }),
    );

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: start,
      isCompleteHandler: check,
      queryInterval: Duration.seconds(10),
      totalTimeout: Duration.minutes(30),
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention }),
    });

    this.resource = new CustomResource(this, 'Run', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SwitchboardMigrate',
      properties: {
        Cluster: props.cluster.clusterArn,
        TaskDefinition: this.task.taskDefinition.taskDefinitionArn,
        Subnets: props.cluster.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
        SecurityGroups: [securityGroup.securityGroupId, props.dataClients.securityGroupId],
        LogGroup: this.task.logGroup.logGroupName,
      },
    });
  }
}
