import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AppTask } from './app-task.js';

export const API_PORT = 3000;
/** Socket.IO pings every 25 s, so only silent sockets and slow uploads ever meet this limit. */
export const ALB_IDLE_TIMEOUT_SECONDS = 300;
/**
 * HTTP_KEEP_ALIVE_TIMEOUT_MS of the API: longer than the ALB's idle timeout, so the ALB always
 * closes an idle connection first and never sends a request on one Node is closing (a 502).
 */
export const API_KEEP_ALIVE_TIMEOUT_MS = (ALB_IDLE_TIMEOUT_SECONDS + 10) * 1000;

export interface ApiServiceProps {
  readonly cluster: ecs.ICluster;
  readonly image: ecs.ContainerImage;
  /** Security group that Redis and Aurora admit. */
  readonly dataClients: ec2.ISecurityGroup;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  readonly modelsJson: string;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly cpuTargetPercent: number;
  readonly requestsPerTaskTarget: number;
  readonly allowedCidrs: string[];
  readonly certificateArn?: string;
  readonly domainName?: string;
  readonly hostedZone?: { id: string; name: string };
  readonly logRetention: logs.RetentionDays;
}

/**
 * The API (REST, Socket.IO and the portal's static files) on Fargate behind an internet-facing ALB:
 * HTTPS with a modern TLS policy when a certificate is given (HTTP redirects), sticky sessions for
 * Socket.IO's long-polling handshake, a long idle timeout for WebSockets, short deregistration
 * (clients reconnect and resume by seq), and target tracking on CPU and requests per task.
 */
export class ApiService extends Construct {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly task: AppTask;
  readonly url: string;

  constructor(scope: Construct, id: string, props: ApiServiceProps) {
    super(scope, id);
    const vpc = props.cluster.vpc;
    const https = !!props.certificateArn;

    this.task = new AppTask(this, 'Task', {
      name: 'api',
      image: props.image,
      cpu: props.cpu,
      memoryMiB: props.memoryMiB,
      environment: {
        ...props.environment,
        PORT: String(API_PORT),
        HOST: '0.0.0.0',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(API_KEEP_ALIVE_TIMEOUT_MS),
      },
      secrets: props.secrets,
      modelsJson: props.modelsJson,
      // Sockets drain during the ALB's deregistration delay; clients then resume on another task.
      stopTimeout: Duration.seconds(30),
      port: API_PORT,
      healthCheck: {
        command: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${API_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      logRetention: props.logRetention,
    });

    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'Switchboard ALB: HTTP(S) from the allowed CIDRs',
      allowAllOutbound: false,
    });
    for (const cidr of props.allowedCidrs) {
      if (https) albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from allowed clients');
      albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80), https ? 'HTTP (redirected to HTTPS)' : 'HTTP from allowed clients');
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      // Audit evidence outlives the stack; empty and delete it by hand after teardown.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSecurityGroup,
      idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(accessLogs, 'alb');

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: 'Switchboard api tasks: from the ALB only',
      // Outbound: Redis, Aurora, Cognito JWKS, VPC endpoints.
      allowAllOutbound: true,
    });
    // The target group registration adds ALB -> task rules on port 3000 (both directions).

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.task.taskDefinition,
      desiredCount: props.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [serviceSecurityGroup, props.dataClients],
      assignPublicIp: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc,
      port: API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [this.service.loadBalancerTarget({ containerName: 'api', containerPort: API_PORT })],
      // Liveness only: a dependency outage must not make ECS replace every task (the ALB fails open anyway).
      healthCheck: {
        path: '/healthz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      deregistrationDelay: Duration.seconds(25),
      // Socket.IO starts with HTTP long-polling: its requests must reach the node holding the session.
      stickinessCookieDuration: Duration.hours(1),
    });

    if (https) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
        open: false,
      });
      this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
        open: false,
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
        open: false,
      });
    }

    // /metrics is for the VPC (a scraper with METRICS_TOKEN), never the internet.
    this.listener.addAction('NoPublicMetrics', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/metrics', '/metrics/*'])],
      action: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found' }),
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: props.requestsPerTaskTarget,
      targetGroup: this.targetGroup,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });

    if (props.domainName && props.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZone.id,
        zoneName: props.hostedZone.name,
      });
      new route53.ARecord(this, 'Alias', {
        zone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }

    this.url = props.domainName
      ? `${https ? 'https' : 'http'}://${props.domainName}`
      : `http://${this.loadBalancer.loadBalancerDnsName}`;
  }
}
