import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALB_IDLE_TIMEOUT_SECONDS, API_PORT } from '../lib/constructs/api-service.js';
import { REPO_ROOT } from '../lib/constructs/images.js';
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

  const httpsResourcesRaw = () => httpsResources as unknown as Record<string, { DependsOn?: string[] }>;
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

  it('scales the worker by target tracking on backlog per running task, with one task\'s capacity (concurrency) as the target', () => {
    const [workerId] = service('worker');
    const [targetId, target] = byType('AWS::ApplicationAutoScaling::ScalableTarget').find(([, r]) =>
      flatten(r.Properties.ResourceId).includes(workerId),
    )!;
    expect(target.Properties).toMatchObject({ MinCapacity: 1, MaxCapacity: 6, ScalableDimension: 'ecs:service:DesiredCount' });
    https.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: { Ref: targetId },
      TargetTrackingScalingPolicyConfiguration: {
        // WORKER_CONCURRENCY: the backlog counts running jobs, so a task is full at its concurrency.
        TargetValue: 64,
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

  it('injects each credential from its own secret key, with credential-free URLs, and configures OIDC against Cognito', () => {
    for (const name of ['api', 'worker']) {
      const [container] = taskDef(name).Properties.ContainerDefinitions;
      const secrets = Object.fromEntries(container.Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, flatten(s.ValueFrom)]));
      expect(Object.keys(secrets).sort()).toEqual(name === 'api' ? ['DATABASE_PASSWORD', 'METRICS_TOKEN', 'REDIS_PASSWORD'] : ['DATABASE_PASSWORD', 'REDIS_PASSWORD']);
      // A JSON key of the app role's secret (ECS reads it at task start: rotation needs new tasks only).
      expect(secrets.DATABASE_PASSWORD).toMatch(/:password::$/);
      const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
      expect(env).toMatchObject({ BEDROCK_MODE: 'aws', AUTH_MODE: 'oidc', AUTH_ADMIN_GROUP: 'admin', AWS_REGION: 'eu-west-1', NODE_ENV: 'production' });
      expect(flatten(env.AUTH_ISSUER)).toMatch(/^https:\/\/cognito-idp\.eu-west-1\.\$\{AWS::URLSuffix\}\/\$\{Fn::ImportValue\}$/);
      expect(env.AUTH_CLIENT_ID).toEqual({ 'Fn::ImportValue': expect.stringContaining('UserPoolPortal') });
      expect(flatten(env.AUTH_END_SESSION_URL)).toMatch(/^https:\/\/.*\/logout$/);
      expect(JSON.parse(env.MODELS_JSON).map((m: { id: string }) => m.id)).toContain('anthropic.claude-3-haiku-20240307-v1:0');
      expect(flatten(env.REDIS_URL)).toMatch(/^rediss:\/\/\$\{Fn::ImportValue\}:\$\{Fn::ImportValue\}$/);
      expect(flatten(env.DATABASE_URL)).toMatch(/^postgres:\/\/switchboard_app@\$\{Fn::ImportValue\}:5433\/switchboard\?sslmode=verify-full&sslrootcert=/);
      for (const key of Object.keys(env)) expect(key).not.toMatch(/PASSWORD|SECRET|TOKEN|ACCESS_KEY/);
    }
    const [api] = taskDef('api').Properties.ContainerDefinitions;
    expect(api.Environment).toEqual(expect.arrayContaining([{ Name: 'HOST', Value: '0.0.0.0' }, { Name: 'PORT', Value: String(API_PORT) }]));
    const [worker] = taskDef('worker').Properties.ContainerDefinitions;
    expect(worker.Environment).toEqual(expect.arrayContaining([{ Name: 'WORKER_CONCURRENCY', Value: '64' }]));
  });

  it('accepts only tokens for the portal and batch clients, with the resource server as scope prefix (issue 11)', () => {
    for (const name of ['api', 'worker']) {
      const env = Object.fromEntries(
        taskDef(name).Properties.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
      );
      expect(env.AUTH_MODE).toBe('oidc');
      expect(env.AUTH_AUDIENCE).toEqual({
        'Fn::Join': [',', [{ 'Fn::ImportValue': expect.stringContaining('UserPoolPortal') }, { 'Fn::ImportValue': expect.stringContaining('UserPoolBatch') }]],
      });
      expect(env.AUTH_SCOPE_PREFIX).toBe('switchboard/');
    }
  });

  it('runs the images as built: no command override, no file written at start, no migration at boot', () => {
    for (const name of ['api', 'worker']) {
      const [container] = taskDef(name).Properties.ContainerDefinitions;
      expect(container.Command).toBeUndefined();
      expect(container.ReadonlyRootFilesystem).toBe(true);
      const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
      expect(env.DB_MIGRATE_ON_BOOT).toBe('false');
      expect(env.MODELS_FILE).toBeUndefined();
      expect(env.DATA_DIR).toBeUndefined();
    }
  });

  it('migrates as a deploy step: a one-off task with the migrate command, run and awaited before either service rolls', () => {
    const [migrateTdId, migrate] = byType('AWS::ECS::TaskDefinition').find(([, r]) => r.Properties.ContainerDefinitions[0].Name === 'migrate')!;
    const [container] = migrate.Properties.ContainerDefinitions;
    expect(container.Command).toEqual(['node', 'libs/server-core/dist/db/migrate.js']);
    const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(flatten(env.DATABASE_URL)).toMatch(/^postgres:\/\/switchboard@/);
    expect(env.APP_DB_USER).toBe('switchboard_app');
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual(['APP_DB_PASSWORD', 'DATABASE_PASSWORD']);
    const [runId, run] = byType('Custom::SwitchboardMigrate')[0]!;
    expect(run.Properties.TaskDefinition).toEqual({ Ref: migrateTdId });
    for (const name of ['api', 'worker']) {
      const [serviceId] = service(name);
      expect((httpsResourcesRaw()[serviceId]!.DependsOn ?? []) as string[]).toContain(runId);
    }
  });

  it('keeps API keep-alive above the ALB idle timeout and /metrics off the public listener', () => {
    const [api] = taskDef('api').Properties.ContainerDefinitions;
    const env = Object.fromEntries(api.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(Number(env.HTTP_KEEP_ALIVE_TIMEOUT_MS)).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS * 1000);
    https.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 1,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/metrics', '/metrics/*'] } }],
      Actions: [{ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) }],
    });
    plain.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
  });

  it('drains workers below the stop timeout and lets a busy worker protect itself from scale-in', () => {
    const [worker] = taskDef('worker').Properties.ContainerDefinitions;
    const env = Object.fromEntries(worker.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(Number(env.WORKER_DRAIN_MS)).toBeLessThan(WORKER_STOP_TIMEOUT_SECONDS * 1000);
    const workerRole = taskDef('worker').Properties.TaskRoleArn['Fn::GetAtt'][0];
    const statements = byType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles ?? []).some((r: { Ref: string }) => r.Ref === workerRole))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'] }));
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

  it('has a dashboard and alarms on backlog, scaling metric, API and ALB 5xx, tasks, workers, Redis, Aurora, Bedrock and job failures, each with its runbook section', () => {
    https.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    https.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [ALARM_TOPIC], OKActions: [ALARM_TOPIC] });
    const alarms = Object.entries(https.findResources('AWS::CloudWatch::Alarm'));
    const names = alarms.map(([id]) => id.replace(/^Monitoring/, '').replace(/[0-9A-F]{8}$/, '')).sort();
    expect(names).toEqual(
      [
        'AlbGenerated5xx',
        'Api5xxRate',
        'ApiTasksBelowDesired',
        'ApiUnhealthyTargets',
        'AuroraAtCapacity',
        'AuroraConnectionsHigh',
        'BacklogAboveCapacity',
        'BacklogMetricMissing',
        'BedrockErrors',
        'BedrockThrottles',
        'JobFailureRate',
        'RedisMemoryHigh',
        'WorkerCpuHigh',
        'WorkerMemoryHigh',
        'WorkerTasksBelowDesired',
      ].sort(),
    );
    const runbook = readFileSync(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    for (const [, alarm] of alarms) {
      const anchor = /Runbook: docs\/deploy\.md#(alarm-[a-z0-9]+)/.exec(alarm.Properties.AlarmDescription)?.[1];
      expect(anchor).toBeDefined();
      // The runbook has the section the alarm points at.
      expect(runbook).toContain(`<a id="${anchor}"></a>`);
    }
    const backlogAlarms = Object.values(https.findResources('AWS::CloudWatch::Alarm', { Properties: { Threshold: 64 * 6, EvaluationPeriods: 15 } }));
    expect(backlogAlarms).toHaveLength(1);
    expect(JSON.stringify(backlogAlarms[0])).toContain('"MetricName":"QueueBacklog"');
    expect(JSON.stringify(https.findResources('AWS::CloudWatch::Alarm'))).toContain('"MetricName":"HTTPCode_ELB_5XX_Count"');
  });

  it('puts workers on Fargate Spot (first task on demand) and Graviton when asked', () => {
    const app = buildApp({ worker: { spot: true, arm64: true } as never });
    const resources = Template.fromStack(app.services).toJSON().Resources as Resources;
    const worker = Object.values(resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.ContainerDefinitions[0].Name === 'worker')!;
    expect(worker.Properties.RuntimePlatform).toMatchObject({ CpuArchitecture: 'ARM64' });
    const services = Object.values(resources).filter((r) => r.Type === 'AWS::ECS::Service');
    expect(services.map((s) => s.Properties.CapacityProviderStrategy).filter(Boolean)).toEqual([
      [
        { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
      ],
    ]);
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
    // Wildcards on ARNs that exist only at run time: the migrate handlers' versions (4) and this cluster's tasks (1).
    const keys = [...acknowledged.keys()];
    const runtimeArns = keys.filter((k) =>
      /AwsSolutions-IAM5\[Resource::(<Migrate\w+\.Arn>:\*|arn:<AWS::Partition>:ecs:eu-west-1:<AWS::AccountId>:task\/<Cluster\w+>\/\*)\]$/.test(k),
    );
    expect(runtimeArns).toHaveLength(5);
    expect(keys.filter((k) => !runtimeArns.includes(k)).sort()).toEqual(
      [
        'Switchboard-Auth AwsSolutions-COG8',
        'Switchboard-Data AwsSolutions-RDS6',
        'Switchboard-Data AwsSolutions-SMG4',
        'Switchboard-Network AwsSolutions-EC23',
        'Switchboard-Services AwsSolutions-EC23',
        'Switchboard-Services AwsSolutions-ECS2',
        'Switchboard-Services AwsSolutions-IAM5[Resource::*]',
        // The migration runner (a Lambda-backed custom resource) and task scale-in protection.
        'Switchboard-Services AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'Switchboard-Services AwsSolutions-L1',
        'Switchboard-Services AwsSolutions-SF1',
        'Switchboard-Services AwsSolutions-SF2',
        'Switchboard-Services AwsSolutions-SMG4',
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
