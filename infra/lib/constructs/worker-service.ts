import { Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppTask } from './app-task.js';
import { BedrockAccess } from './bedrock-access.js';

/** What the worker publishes in CloudWatch Embedded Metric Format on stdout. */
export const BACKLOG_METRIC = { namespace: 'Switchboard', metricName: 'QueueBacklog', dimensions: { Service: 'worker' } } as const;
/** Fargate's ceiling for stopTimeout: how long a stopping worker may finish its streams after SIGTERM. */
export const WORKER_STOP_TIMEOUT_SECONDS = 120;
/**
 * WORKER_DRAIN_MS: streams still running this long after SIGTERM go back to the queue and continue
 * on another worker from the delivered text; the rest of stopTimeout covers the hand-over and exit.
 */
export const WORKER_DRAIN_SECONDS = 100;

export interface WorkerServiceProps {
  readonly cluster: ecs.ICluster;
  readonly image: ecs.ContainerImage;
  readonly dataClients: ec2.ISecurityGroup;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  readonly modelsJson: string;
  readonly bedrock: BedrockAccess;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly concurrency: number;
  /** Scaling target per running task; defaults to its capacity, `concurrency`. */
  readonly backlogPerTask?: number;
  /** Fargate Spot for the tasks above the first (which stays on demand). */
  readonly spot?: boolean;
  readonly arm64?: boolean;
  readonly logRetention: logs.RetentionDays;
}

/**
 * BullMQ workers on Fargate with no load balancer and no inbound port. The only role allowed to
 * call Bedrock, and only for the catalog's models. Scales by target tracking on backlog per task:
 * QueueBacklog (from the workers' EMF logs: every queue's waiting, delayed and running jobs) /
 * RunningTaskCount (Container Insights), with one task's concurrency as the target. A worker with
 * jobs in flight holds ECS task scale-in protection, so scaling in stops an idle task.
 */
export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly task: AppTask;
  readonly scalingPolicy: appscaling.CfnScalingPolicy;
  /** The backlog per task the service scales to. */
  readonly targetBacklogPerTask: number;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);

    this.task = new AppTask(this, 'Task', {
      name: 'worker',
      image: props.image,
      cpu: props.cpu,
      memoryMiB: props.memoryMiB,
      environment: {
        ...props.environment,
        WORKER_CONCURRENCY: String(props.concurrency),
        WORKER_DRAIN_MS: String(WORKER_DRAIN_SECONDS * 1000),
        // The backlog (EMF on stdout) drives scaling: explicit, not left to the ECS detection default.
        BACKLOG_METRICS_INTERVAL_MS: '30000',
      },
      cpuArchitecture: props.arm64 ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      secrets: props.secrets,
      modelsJson: props.modelsJson,
      stopTimeout: Duration.seconds(WORKER_STOP_TIMEOUT_SECONDS),
      logRetention: props.logRetention,
    });
    props.bedrock.grantInvoke(this.task.taskDefinition.taskRole);
    // Scale-in protection while jobs run: the worker calls the ECS agent ($ECS_AGENT_URI), which acts with the task role.
    const { partition, region, account } = Stack.of(this);
    this.task.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [`arn:${partition}:ecs:${region}:${account}:task/${props.cluster.clusterName}/*`],
      }),
    );
    this.targetBacklogPerTask = props.backlogPerTask ?? props.concurrency;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'Switchboard worker tasks: no inbound; outbound to Redis, Aurora, Bedrock and job callback URLs',
      allowAllOutbound: true,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.task.taskDefinition,
      desiredCount: props.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup, props.dataClients],
      assignPublicIp: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      // Spot: the first task on demand (the backlog metric keeps flowing), the rest on Spot; a
      // reclaimed task gets SIGTERM two minutes ahead, drains and hands its streams over.
      ...(props.spot
        ? {
            capacityProviderStrategies: [
              { capacityProvider: 'FARGATE', base: 1, weight: 0 },
              { capacityProvider: 'FARGATE_SPOT', weight: 1 },
            ],
          }
        : {}),
    });

    const taskCount = this.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks });
    const target = taskCount.node.findChild('Target') as appscaling.ScalableTarget;

    // Target tracking on a metric-math expression: the CDK L2 accepts only plain metrics here.
    // Every worker reports the same queue-wide total, hence Maximum rather than Sum.
    this.scalingPolicy = new appscaling.CfnScalingPolicy(this, 'BacklogPerTask', {
      policyName: 'switchboard-worker-backlog-per-task',
      policyType: 'TargetTrackingScaling',
      scalingTargetId: target.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        // Running jobs count, so one task's capacity (its concurrency) is the natural target.
        targetValue: this.targetBacklogPerTask,
        // Out fast (a minute of backlog is a minute of waiting users), in slowly (a stopping task
        // may be finishing streams for up to two minutes).
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'backlog',
              label: 'Queue backlog (chat + summarize + webhooks: waiting + delayed + running)',
              returnData: false,
              metricStat: {
                metric: {
                  namespace: BACKLOG_METRIC.namespace,
                  metricName: BACKLOG_METRIC.metricName,
                  dimensions: [{ name: 'Service', value: BACKLOG_METRIC.dimensions.Service }],
                },
                stat: 'Maximum',
              },
            },
            {
              id: 'tasks',
              label: 'Running worker tasks',
              returnData: false,
              metricStat: {
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'RunningTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: props.cluster.clusterName },
                    { name: 'ServiceName', value: this.service.serviceName },
                  ],
                },
                stat: 'Average',
              },
            },
            { id: 'perTask', label: 'Backlog per running worker task', expression: 'backlog / tasks', returnData: true },
          ],
        },
      },
    });
  }
}
