import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
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
}

/** One dashboard for queue, workers and API, and the alarms worth waking someone for. */
export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

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

    new cloudwatch.Dashboard(this, 'Dashboard', {
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
        alarmDescription: 'Switchboard: queue backlog exceeds what the maximum number of workers is meant to absorb, for 15 minutes',
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
        alarmDescription: 'Switchboard: no QueueBacklog metric for 10 minutes; worker autoscaling is blind',
        metric: new cloudwatch.MathExpression({ expression: 'FILL(b, -1)', usingMetrics: { b: backlog }, period: minute }),
        threshold: 0,
        evaluationPeriods: 10,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
    this.alarms.push(
      new cloudwatch.Alarm(this, 'Api5xxRate', {
        alarmDescription: 'Switchboard: more than 5% of API responses are 5xx for 5 minutes',
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
        alarmDescription: 'Switchboard: API targets failing /healthz for 5 minutes',
        metric: props.targetGroup.metrics.unhealthyHostCount({ period: minute, statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(new actions.SnsAction(topic));
        alarm.addOkAction(new actions.SnsAction(topic));
      }
    }
  }
}
