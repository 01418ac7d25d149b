import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Where the container writes the catalog it receives in MODELS_JSON (MODELS_FILE points here). */
export const MODELS_PATH = '/tmp/switchboard/models.json';

export interface AppTaskProps {
  readonly name: 'api' | 'worker';
  readonly image: ecs.ContainerImage;
  readonly entrypoint: string;
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Non-secret configuration (the settings in docs/architecture.md#configuration and the README). */
  readonly environment: Record<string, string>;
  /** REDIS_URL, DATABASE_URL: injected by the ECS agent from Secrets Manager, never in the template. */
  readonly secrets: Record<string, ecs.Secret>;
  /** The catalog JSON; written to MODELS_PATH before the process starts. */
  readonly modelsJson: string;
  readonly stopTimeout: Duration;
  readonly port?: number;
  readonly healthCheck?: ecs.HealthCheck;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A Fargate task definition for one of the two Node processes: read-only root filesystem with a
 * scratch volume at /tmp, tini as PID 1 (SIGTERM reaches node), non-blocking awslogs (stdout is
 * also where the worker's CloudWatch EMF metrics go).
 */
export class AppTask extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppTaskProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      volumes: [{ name: 'tmp' }],
    });

    // The catalog is deployment configuration, not code: it travels in the task definition and is
    // written to a file because the apps read MODELS_FILE. One image serves every catalog.
    const command = [
      'sh',
      '-c',
      `mkdir -p "$(dirname "$MODELS_FILE")" && printf '%s' "$MODELS_JSON" > "$MODELS_FILE" && exec node ${props.entrypoint}`,
    ];

    this.container = this.taskDefinition.addContainer(props.name, {
      containerName: props.name,
      image: props.image,
      command,
      environment: {
        ...props.environment,
        NODE_ENV: 'production',
        MODELS_FILE: MODELS_PATH,
        MODELS_JSON: props.modelsJson,
        DATA_DIR: '/tmp/switchboard/data',
      },
      secrets: props.secrets,
      portMappings: props.port ? [{ containerPort: props.port, name: props.name, protocol: ecs.Protocol.TCP }] : [],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: props.name,
        logGroup: this.logGroup,
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
      stopTimeout: props.stopTimeout,
      healthCheck: props.healthCheck,
      readonlyRootFilesystem: true,
      linuxParameters: new ecs.LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      essential: true,
    });
    this.container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
  }
}
