import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppTask } from './app-task.js';
import { BedrockAccess } from './bedrock-access.js';

/** What the worker publishes in CloudWatch Embedded Metric Format on stdout. */
export const BACKLOG_METRIC = { namespace: 'Switchboard', metricName: 'QueueBacklog', dimensions: { Service: 'worker' } } as const;
/** Fargate's ceiling for stopTimeout: how long a stopping worker may finish its streams after SIGTERM. */
export const WORKER_STOP_TIMEOUT_SECONDS = 120;

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
  readonly backlogPerTask: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * BullMQ workers on Fargate with no load balancer and no inbound port. The only role allowed to
 * call Bedrock, and only for the catalog's models. Scales by target tracking on backlog per task:
 * QueueBacklog (from the workers' EMF logs) / RunningTaskCount (Container Insights).
 */
export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly task: AppTask;
  readonly scalingPolicy: appscaling.CfnScalingPolicy;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);

    this.task = new AppTask(this, 'Task', {
      name: 'worker',
      image: props.image,
      entrypoint: 'worker/dist/main.js',
      cpu: props.cpu,
      memoryMiB: props.memoryMiB,
      environment: { ...props.environment, WORKER_CONCURRENCY: String(props.concurrency) },
      secrets: props.secrets,
      modelsJson: props.modelsJson,
      stopTimeout: Duration.seconds(WORKER_STOP_TIMEOUT_SECONDS),
      logRetention: props.logRetention,
    });
    props.bedrock.grantInvoke(this.task.taskDefinition.taskRole);

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
        targetValue: props.backlogPerTask,
        // Out fast (a minute of backlog is a minute of waiting users), in slowly (a stopping task
        // may be finishing streams for up to two minutes).
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'backlog',
              label: 'Queue backlog (waiting + delayed)',
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
