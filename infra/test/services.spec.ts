import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALB_IDLE_TIMEOUT_SECONDS, API_PORT } from '../lib/constructs/api-service.js';
import { WORKER_STOP_TIMEOUT_SECONDS } from '../lib/constructs/worker-service.js';
import { APP_CONTEXT, createSwitchboardApp } from '../lib/app.js';
import { buildApp, CERT_ARN, flatten, params } from './helpers.js';

const ALARM_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

describe('Services stack (api + worker), synthesized with cdk-nag', () => {
  let https: Template;
  let plain: Template;
  let httpsResources: Resources;
  let assetsJson: { dockerImages: Record<string, { source: { directory: string; dockerFile: string } }> };
  let assemblyDir: string;
  let allTemplates: Array<{ stack: string; resources: Resources }>;

  beforeAll(() => {
    const withCert = buildApp({
      domainName: 'chat.example.com',
      certificateArn: CERT_ARN,
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      hostedZoneName: 'example.com',
      alarmTopicArn: ALARM_TOPIC,
    });
    https = Template.fromStack(withCert.services);
    httpsResources = https.toJSON().Resources;
    const artifact = withCert.assembly.getStackByName(withCert.services.stackName);
    assemblyDir = withCert.assembly.directory;
    allTemplates = [withCert.network, withCert.data, withCert.auth, withCert.services].map((stack) => ({
      stack: stack.stackName,
      resources: withCert.assembly.getStackByName(stack.stackName).template.Resources,
    }));
    assetsJson = JSON.parse(readFileSync(join(withCert.assembly.directory, `${artifact.stackName}.assets.json`), 'utf8'));
    plain = Template.fromStack(buildApp().services);
  });

  const byType = (type: string) => Object.entries(httpsResources).filter(([, r]) => r.Type === type);
  const taskDef = (containerName: string) =>
    byType('AWS::ECS::TaskDefinition').find(([, r]) => r.Properties.ContainerDefinitions[0].Name === containerName)![1];
  const service = (containerName: string) => {
    const [tdId] = byType('AWS::ECS::TaskDefinition').find(([, r]) => r.Properties.ContainerDefinitions[0].Name === containerName)!;
    return byType('AWS::ECS::Service').find(([, r]) => r.Properties.TaskDefinition.Ref === tdId)!;
  };

  it('runs exactly two Fargate services on a cluster with Container Insights', () => {
    https.resourceCountIs('AWS::ECS::Service', 2);
    https.resourcePropertiesCountIs('AWS::ECS::Service', { LaunchType: 'FARGATE' }, 2);
    https.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  it('puts the api behind the ALB on the container it defines, and the worker behind nothing', () => {
    const [, api] = service('api');
    expect(api.Properties.LoadBalancers).toEqual([
      { ContainerName: 'api', ContainerPort: API_PORT, TargetGroupArn: { Ref: expect.stringMatching(/^ApiTargets/) } },
    ]);
    const [, worker] = service('worker');
    expect(worker.Properties.LoadBalancers).toBeUndefined();
    expect(taskDef('worker').Properties.ContainerDefinitions[0].PortMappings).toBeUndefined();
    for (const [, s] of [service('api'), service('worker')]) {
      expect(s.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
      expect(s.Properties.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    }
  });

  it('scales the worker by target tracking on queue backlog per running task', () => {
    const [workerId] = service('worker');
    const [targetId, target] = byType('AWS::ApplicationAutoScaling::ScalableTarget').find(([, r]) =>
      flatten(r.Properties.ResourceId).includes(workerId),
    )!;
    expect(target.Properties).toMatchObject({ MinCapacity: 1, MaxCapacity: 6, ScalableDimension: 'ecs:service:DesiredCount' });
    https.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: { Ref: targetId },
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 16,
        ScaleOutCooldown: 60,
        ScaleInCooldown: 300,
        CustomizedMetricSpecification: {
          Metrics: Match.arrayWith([
            Match.objectLike({
              Id: 'backlog',
              MetricStat: Match.objectLike({
                Metric: { Namespace: 'Switchboard', MetricName: 'QueueBacklog', Dimensions: [{ Name: 'Service', Value: 'worker' }] },
              }),
            }),
            Match.objectLike({
              Id: 'tasks',
              MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount' }) }),
            }),
            Match.objectLike({ Id: 'perTask', Expression: 'backlog / tasks', ReturnData: true }),
          ]),
        },
      },
    });
  });

  it('scales the api on CPU and requests per target', () => {
    for (const metric of ['ECSServiceAverageCPUUtilization', 'ALBRequestCountPerTarget']) {
      https.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: metric }) }),
      });
    }
  });

  it('gives workers two minutes to finish streams after SIGTERM, with tini as PID 1', () => {
    const [worker] = taskDef('worker').Properties.ContainerDefinitions;
    expect(worker.StopTimeout).toBe(WORKER_STOP_TIMEOUT_SECONDS);
    expect(worker.LinuxParameters.InitProcessEnabled).toBe(true);
    expect(worker.ReadonlyRootFilesystem).toBe(true);
  });

  it('lets only the worker call Bedrock, on catalog ARNs only; the api has no Bedrock permission', () => {
    const workerRole = taskDef('worker').Properties.TaskRoleArn['Fn::GetAtt'][0];
    const apiRole = taskDef('api').Properties.TaskRoleArn['Fn::GetAtt'][0];
    const bedrockStatements: Array<{ roles: string[]; statement: any }> = [];
    for (const [, policy] of byType('AWS::IAM::Policy')) {
      const roles = (policy.Properties.Roles ?? []).map((r: { Ref: string }) => r.Ref);
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        if (actions.some((a: string) => a.startsWith('bedrock:') || a === '*')) bedrockStatements.push({ roles, statement });
      }
    }
    expect(bedrockStatements.length).toBeGreaterThan(0);
    for (const { roles, statement } of bedrockStatements) {
      expect(roles).toEqual([workerRole]);
      expect(roles).not.toContain(apiRole);
      expect([statement.Action].flat().sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
      const resources = [statement.Resource].flat().map(flatten);
      expect(resources).not.toContain('*');
      for (const arn of resources) expect(arn).toMatch(/^arn:\$\{AWS::Partition\}:bedrock:[a-z0-9-]+:(\$\{AWS::AccountId\})?:(foundation-model|inference-profile)\/[a-z]/);
    }
  });

  it('injects REDIS_URL and DATABASE_URL from Secrets Manager and configures OIDC against Cognito', () => {
    for (const name of ['api', 'worker']) {
      const [container] = taskDef(name).Properties.ContainerDefinitions;
      const secrets = Object.fromEntries(container.Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, s.ValueFrom]));
      expect(Object.keys(secrets).sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
      const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
      expect(env).toMatchObject({ BEDROCK_MODE: 'aws', AUTH_MODE: 'oidc', AUTH_ADMIN_GROUP: 'admin', AWS_REGION: 'eu-west-1', NODE_ENV: 'production' });
      expect(flatten(env.AUTH_ISSUER)).toMatch(/^https:\/\/cognito-idp\.eu-west-1\.\$\{AWS::URLSuffix\}\/\$\{Fn::ImportValue\}$/);
      expect(env.AUTH_CLIENT_ID).toEqual({ 'Fn::ImportValue': expect.stringContaining('UserPoolPortal') });
      expect(env.AUTH_AUDIENCE).toBeUndefined();
      expect(flatten(env.AUTH_END_SESSION_URL)).toMatch(/^https:\/\/.*\/logout$/);
      expect(JSON.parse(env.MODELS_JSON).map((m: { id: string }) => m.id)).toContain('anthropic.claude-3-haiku-20240307-v1:0');
      expect(env.MODELS_FILE).toBe('/tmp/switchboard/models.json');
      for (const key of Object.keys(env)) expect(key).not.toMatch(/PASSWORD|SECRET|TOKEN|ACCESS_KEY/);
    }
    const [api] = taskDef('api').Properties.ContainerDefinitions;
    expect(api.Environment).toEqual(expect.arrayContaining([{ Name: 'HOST', Value: '0.0.0.0' }, { Name: 'PORT', Value: String(API_PORT) }]));
    expect(api.Command.at(-1)).toMatch(/exec node api\/dist\/main\.js$/);
    const [worker] = taskDef('worker').Properties.ContainerDefinitions;
    expect(worker.Environment).toEqual(expect.arrayContaining([{ Name: 'WORKER_CONCURRENCY', Value: '64' }]));
  });

  it('terminates HTTPS on the ALB when a certificate is given, with HTTP redirected', () => {
    https.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: CERT_ARN }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    https.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) }],
    });
    https.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'chat.example.com.', Type: 'A' });
  });

  it('serves plain HTTP only when no certificate is given', () => {
    plain.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    plain.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP', Port: 80 });
  });

  it('keeps WebSockets open, sticks Socket.IO sessions and checks /healthz', () => {
    const [, alb] = byType('AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    expect(alb.Properties.Scheme).toBe('internet-facing');
    const albAttributes = Object.fromEntries(alb.Properties.LoadBalancerAttributes.map((a: { Key: string; Value: unknown }) => [a.Key, a.Value]));
    expect(albAttributes).toMatchObject({
      'idle_timeout.timeout_seconds': String(ALB_IDLE_TIMEOUT_SECONDS),
      'access_logs.s3.enabled': 'true',
      'routing.http.drop_invalid_header_fields.enabled': 'true',
    });
    https.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: API_PORT, TargetType: 'ip', HealthCheckPath: '/healthz' });
    const [, targetGroup] = byType('AWS::ElasticLoadBalancingV2::TargetGroup')[0]!;
    const tgAttributes = Object.fromEntries(targetGroup.Properties.TargetGroupAttributes.map((a: { Key: string; Value: unknown }) => [a.Key, a.Value]));
    expect(tgAttributes).toMatchObject({ 'stickiness.enabled': 'true', 'stickiness.type': 'lb_cookie', 'deregistration_delay.timeout_seconds': '25' });
    const [api] = taskDef('api').Properties.ContainerDefinitions;
    expect(api.HealthCheck.Command.join(' ')).toContain('/healthz');
  });

  it('has a dashboard and alarms on backlog, the scaling metric, API 5xx and unhealthy targets, notifying the given topic', () => {
    https.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    https.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    https.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [ALARM_TOPIC], OKActions: [ALARM_TOPIC] });
    const backlogAlarms = Object.values(https.findResources('AWS::CloudWatch::Alarm', { Properties: { Threshold: 16 * 6, EvaluationPeriods: 15 } }));
    expect(backlogAlarms).toHaveLength(1);
    expect(JSON.stringify(backlogAlarms[0])).toContain('"MetricName":"QueueBacklog"');
  });

  it('passes AwsSolutions with only the reviewed acknowledgements, each with its reason', () => {
    const acknowledged = new Map<string, string[]>();
    for (const { stack, resources } of allTemplates) {
      for (const resource of Object.values(resources) as Array<{ Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }>) {
        for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          if (!rule.id.startsWith('AwsSolutions')) continue;
          expect(rule.reason.length).toBeGreaterThan(60);
          acknowledged.set(`${stack} ${rule.id}`, [...(acknowledged.get(`${stack} ${rule.id}`) ?? []), rule.reason]);
        }
      }
    }
    expect([...acknowledged.keys()].sort()).toEqual(
      [
        'Switchboard-Auth AwsSolutions-COG8',
        'Switchboard-Data AwsSolutions-RDS6',
        'Switchboard-Data AwsSolutions-SMG4',
        'Switchboard-Network AwsSolutions-EC23',
        'Switchboard-Services AwsSolutions-EC23',
        'Switchboard-Services AwsSolutions-ECS2',
        'Switchboard-Services AwsSolutions-IAM5[Resource::*]',
        'Switchboard-Services AwsSolutions-S1',
      ].sort(),
    );
  });

  it('builds both images from their Dockerfiles with the repository root as context', () => {
    const sources = Object.values(assetsJson.dockerImages).map((i) => i.source.dockerFile).sort();
    expect(sources).toEqual(['api/Dockerfile', 'worker/Dockerfile']);
  });

  it('stages a build context that holds the Dockerfile and manifests but no node_modules, dist or CDK sources', () => {
    for (const image of Object.values(assetsJson.dockerImages)) {
      const context = join(assemblyDir, image.source.directory);
      expect(existsSync(join(context, image.source.dockerFile))).toBe(true);
      expect(existsSync(join(context, 'package-lock.json'))).toBe(true);
      expect(existsSync(join(context, 'infra/package.json'))).toBe(true);
      expect(existsSync(join(context, 'node_modules'))).toBe(false);
      expect(existsSync(join(context, 'libs/contracts/dist'))).toBe(false);
      expect(existsSync(join(context, 'infra/lib'))).toBe(false);
      expect(existsSync(join(context, '.git'))).toBe(false);
    }
  });
});

describe('cdk-nag', () => {
  it('is wired into synthesis: an unacknowledged violation fails the synth', () => {
    const { app, services } = createSwitchboardApp(params(), new App({ context: APP_CONTEXT }));
    new s3.Bucket(services, 'Careless', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});
