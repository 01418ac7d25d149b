import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BACKLOG_METRIC } from './worker-service.js';

export interface MonitoringProps {
  readonly dashboardName: string;
  readonly cluster: ecs.ICluster;
  readonly apiService: ecs.FargateService;
  readonly workerService: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Backlog per task the workers scale to, and their ceiling: past both, users wait. */
  readonly backlogPerTask: number;
  readonly maxWorkers: number;
  /** Existing SNS topic to notify; alarms without one still show on the dashboard. */
  readonly alarmTopicArn?: string;
  /** ElastiCache replication group id and its node count (members are `<id>-001`, `-002`, …). */
  /** Every Redis node (cache cluster id), primaries and replicas of every shard. */
  readonly redisNodeIds: string[];
  readonly databaseClusterId: string;
  readonly databaseMaxAcu: number;
  /** Catalog model ids, for the AWS/Bedrock metrics (dimension ModelId). */
  readonly modelIds: readonly string[];
  /** The workers' log group: job outcomes become metrics through metric filters. */
  readonly workerLogGroup: logs.ILogGroup;
}

/** Where each alarm's runbook section is (docs/deploy.md, "Alarms"). */
export const RUNBOOK = 'docs/deploy.md#alarms';
const runbook = (anchor: string) => ` Runbook: ${RUNBOOK.replace('#alarms', '')}#${anchor}`;

/** The namespace of metrics the stack derives from the workers' logs. */
export const JOB_METRICS_NAMESPACE = 'Switchboard';

/**
 * One dashboard for queue, workers, API, Redis, Aurora and Bedrock, and the alarms worth waking
 * someone for; each alarm's description names its runbook section in docs/deploy.md.
 */
export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const minute = Duration.minutes(1);

    const backlog = new cloudwatch.Metric({
      namespace: BACKLOG_METRIC.namespace,
      metricName: BACKLOG_METRIC.metricName,
      dimensionsMap: { ...BACKLOG_METRIC.dimensions },
      statistic: 'Maximum',
      period: minute,
      label: 'Backlog (all models)',
    });
    const backlogByModel = new cloudwatch.MathExpression({
      expression: `SEARCH('{${BACKLOG_METRIC.namespace},Service,Model} MetricName="${BACKLOG_METRIC.metricName}"', 'Maximum', 60)`,
      label: '',
      period: minute,
    });
    const running = (service: ecs.FargateService, label: string) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Average',
        period: minute,
        label,
      });
    const target5xx = props.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute, statistic: 'Sum' });
    const requests = props.loadBalancer.metrics.requestCount({ period: minute, statistic: 'Sum' });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Queue backlog', left: [backlog, backlogByModel], width: 12 }),
          new cloudwatch.GraphWidget({
            title: 'Running tasks',
            left: [running(props.workerService, 'workers'), running(props.apiService, 'api')],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'API CPU / memory (%)',
            left: [props.apiService.metricCpuUtilization({ period: minute }), props.apiService.metricMemoryUtilization({ period: minute })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'ALB requests, target 5xx, connections',
            left: [requests, target5xx],
            right: [props.loadBalancer.metrics.activeConnectionCount({ period: minute, statistic: 'Sum' })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Target response time (p95)',
            left: [props.loadBalancer.metrics.targetResponseTime({ period: minute, statistic: 'p95' })],
            width: 8,
          }),
        ],
      ],
    });

    // Workers at their ceiling and the queue still growing: raise the quota or maxTasks.
    this.alarms.push(
      new cloudwatch.Alarm(this, 'BacklogAboveCapacity', {
        alarmDescription: `Switchboard: queue backlog exceeds what the maximum number of workers is meant to absorb, for 15 minutes.${runbook('alarm-backlogabovecapacity')}`,
        metric: backlog,
        threshold: props.backlogPerTask * props.maxWorkers,
        evaluationPeriods: 15,
        datapointsToAlarm: 15,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    // No backlog data while workers should be running: the metric feeding autoscaling is gone.
    this.alarms.push(
      new cloudwatch.Alarm(this, 'BacklogMetricMissing', {
        alarmDescription: `Switchboard: no QueueBacklog metric for 10 minutes; worker autoscaling is blind.${runbook('alarm-backlogmetricmissing')}`,
        metric: new cloudwatch.MathExpression({ expression: 'FILL(b, -1)', usingMetrics: { b: backlog }, period: minute }),
        threshold: 0,
        evaluationPeriods: 10,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
    this.alarms.push(
      new cloudwatch.Alarm(this, 'Api5xxRate', {
        alarmDescription: `Switchboard: more than 5% of API responses are 5xx for 5 minutes.${runbook('alarm-api5xxrate')}`,
        metric: new cloudwatch.MathExpression({
          expression: 'IF(r > 20, 100 * FILL(e, 0) / r, 0)',
          usingMetrics: { e: target5xx, r: requests },
          period: minute,
        }),
        threshold: 5,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    this.alarms.push(
      new cloudwatch.Alarm(this, 'ApiUnhealthyTargets', {
        alarmDescription: `Switchboard: API targets failing /healthz for 5 minutes.${runbook('alarm-apiunhealthytargets')}`,
        metric: props.targetGroup.metrics.unhealthyHostCount({ period: minute, statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const alarm = (id: string, description: string, opts: Omit<cloudwatch.AlarmProps, 'alarmDescription'>) => {
      const a = new cloudwatch.Alarm(this, id, { ...opts, alarmDescription: `Switchboard: ${description}.${runbook(`alarm-${id.toLowerCase()}`)}` });
      this.alarms.push(a);
      return a;
    };
    // `key` keeps metric ids apart when several sums share one graph.
    const sumOf = (metrics: cloudwatch.IMetric[], label: string, key: string) =>
      metrics.length === 1
        ? metrics[0]!
        : new cloudwatch.MathExpression({
            expression: metrics.map((_, i) => `FILL(${key}${i}, 0)`).join(' + '),
            usingMetrics: Object.fromEntries(metrics.map((m, i) => [`${key}${i}`, m])),
            period: minute,
            label,
          });

    // The ALB's own 5xx (no healthy target, target closed the connection: 502/503/504), which the
    // target 5xx rate never sees.
    const elb5xx = props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute, statistic: 'Sum' });
    alarm('AlbGenerated5xx', 'the load balancer itself answered 5xx (502/503/504) more than 10 times a minute for 5 minutes', {
      metric: elb5xx,
      threshold: 10,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Tasks: fewer running than desired (crash loop, image pull, capacity).
    const desired = (service: ecs.FargateService) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'DesiredTaskCount',
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Average',
        period: minute,
      });
    for (const [id, service] of [['ApiTasksBelowDesired', props.apiService], ['WorkerTasksBelowDesired', props.workerService]] as const) {
      alarm(id, `${id.startsWith('Api') ? 'api' : 'worker'} service runs fewer tasks than desired for 10 minutes`, {
        metric: new cloudwatch.MathExpression({
          expression: 'd - r',
          usingMetrics: { d: desired(service), r: running(service, 'running') },
          period: minute,
        }),
        threshold: 0,
        evaluationPeriods: 10,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // Workers: CPU and memory (streams are I/O-bound; high CPU means event-stream decoding is the limit).
    const workerCpu = props.workerService.metricCpuUtilization({ period: minute });
    const workerMemory = props.workerService.metricMemoryUtilization({ period: minute });
    alarm('WorkerCpuHigh', 'worker CPU above 85% for 10 minutes', {
      metric: workerCpu,
      threshold: 85,
      evaluationPeriods: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('WorkerMemoryHigh', 'worker memory above 85% for 5 minutes', {
      metric: workerMemory,
      threshold: 85,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Redis: noeviction means a full Redis refuses new work (chats answer `unavailable`).
    const redisMetric = (metricName: string, node: string, statistic = 'Maximum') =>
      new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: node }, statistic, period: minute, label: node });
    const redisNodes = props.redisNodeIds;
    const redisMemory = redisNodes.map((n) => redisMetric('DatabaseMemoryUsagePercentage', n));
    // An alarm's math takes at most 10 metrics: the first nodes (one per shard first in cluster mode).
    const alarmedMemory = [...redisMemory].sort((a, b) => Number(!a.label?.endsWith('-001')) - Number(!b.label?.endsWith('-001'))).slice(0, 10);
    alarm('RedisMemoryHigh', 'Redis memory above 80% on a node (noeviction: at 100% it refuses new jobs)', {
      metric: new cloudwatch.MathExpression({
        expression: `MAX([${alarmedMemory.map((_, i) => `m${i}`).join(', ')}])`,
        usingMetrics: Object.fromEntries(alarmedMemory.map((m, i) => [`m${i}`, m])),
        period: minute,
      }),
      threshold: 80,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    // Aurora Serverless v2: at its ACU ceiling, or running out of connections.
    const db = (metricName: string, statistic = 'Maximum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/RDS',
        metricName,
        dimensionsMap: { DBClusterIdentifier: props.databaseClusterId },
        statistic,
        period: minute,
      });
    alarm('AuroraAtCapacity', `Aurora above 90% of its maximum of ${props.databaseMaxAcu} ACU for 15 minutes`, {
      metric: db('ServerlessDatabaseCapacity'),
      threshold: props.databaseMaxAcu * 0.9,
      evaluationPeriods: 15,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // About 90 connections per ACU at the floor of the max_connections formula; the apps' pools
    // (api 10, worker 20 per task) should stay well under what the minimum capacity allows.
    alarm('AuroraConnectionsHigh', 'Aurora connections above 400 for 10 minutes', {
      metric: db('DatabaseConnections'),
      threshold: 400,
      evaluationPeriods: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Bedrock (AWS/Bedrock, per ModelId): throttles mean the quota governor's numbers exceed the
    // account's real quota; server errors are Bedrock's side.
    const bedrock = (metricName: string) =>
      props.modelIds.slice(0, 10).map(
        (modelId) =>
          new cloudwatch.Metric({ namespace: 'AWS/Bedrock', metricName, dimensionsMap: { ModelId: modelId }, statistic: 'Sum', period: minute, label: modelId }),
      );
    const throttles = sumOf(bedrock('InvocationThrottles'), 'Bedrock throttles', 'thr');
    const serverErrors = sumOf(bedrock('InvocationServerErrors'), 'Bedrock server errors', 'err');
    alarm('BedrockThrottles', 'Bedrock throttled more than 5 calls a minute for 10 minutes (catalog quota above the account quota)', {
      metric: throttles,
      threshold: 5,
      evaluationPeriods: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('BedrockErrors', 'Bedrock server errors on more than 5 calls a minute for 5 minutes', {
      metric: serverErrors,
      threshold: 5,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Job outcomes from the workers' JSON logs (pino's `msg`): a final failure is a failed call on
    // its last attempt; completions are the processors' own completion lines.
    const jobMetric = (metricName: string, pattern: string) => {
      new logs.MetricFilter(this, `${metricName}Filter`, {
        logGroup: props.workerLogGroup,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricNamespace: JOB_METRICS_NAMESPACE,
        metricName,
        metricValue: '1',
        defaultValue: 0,
      });
      return new cloudwatch.Metric({ namespace: JOB_METRICS_NAMESPACE, metricName, statistic: 'Sum', period: Duration.minutes(5) });
    };
    const jobsFailed = jobMetric('JobsFailed', '{ ($.msg = "bedrock call failed" || $.msg = "summarize attempt failed") && $.lastAttempt IS TRUE }');
    const jobsCompleted = jobMetric('JobsCompleted', '{ $.msg = "chat completed" || $.msg = "summary completed" || $.msg = "map-reduce summary completed" }');
    alarm('JobFailureRate', 'more than 5% of chat and summarize jobs failed for good over 15 minutes (at least 20 jobs)', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(f + c >= 20, 100 * f / (f + c), 0)',
        usingMetrics: { f: jobsFailed, c: jobsCompleted },
        period: Duration.minutes(5),
      }),
      threshold: 5,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Workers CPU / memory (%)', left: [workerCpu, workerMemory], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Jobs completed / failed (5 min)', left: [jobsCompleted, jobsFailed], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'ALB-generated 5xx', left: [elb5xx], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Redis memory (%) / CPU',
        left: redisMemory,
        right: redisNodes.map((n) => redisMetric('EngineCPUUtilization', n)),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Aurora ACU / connections',
        left: [db('ServerlessDatabaseCapacity')],
        right: [db('DatabaseConnections')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Bedrock invocations / throttles / server errors',
        left: [sumOf(bedrock('Invocations'), 'invocations', 'inv')],
        right: [throttles, serverErrors],
        width: 8,
      }),
    );

    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const a of this.alarms) {
        a.addAlarmAction(new actions.SnsAction(topic));
        a.addOkAction(new actions.SnsAction(topic));
      }
    }
  }
}
