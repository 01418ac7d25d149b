import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface AppTaskProps {
  readonly name: 'api' | 'worker' | 'migrate';
  readonly image: ecs.ContainerImage;
  /** Overrides the image's CMD (the migration task); services run the image's own command. */
  readonly command?: string[];
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Non-secret configuration (the settings in docs/architecture.md#configuration and the README). */
  readonly environment: Record<string, string>;
  /**
   * Passwords and tokens, each from one Secrets Manager key, read by the ECS agent when a task
   * starts: a rotated value reaches new tasks without a template change.
   */
  readonly secrets: Record<string, ecs.Secret>;
  /** The catalog JSON, passed as MODELS_JSON (no file: the root filesystem is read-only). */
  readonly modelsJson?: string;
  readonly stopTimeout: Duration;
  readonly port?: number;
  readonly healthCheck?: ecs.HealthCheck;
  readonly logRetention: logs.RetentionDays;
  readonly cpuArchitecture?: ecs.CpuArchitecture;
}

/**
 * A Fargate task definition for one Node process of the images: the image's own command as its
 * non-root user, read-only root filesystem with a scratch volume at /tmp (the images declare it a
 * VOLUME with mode 1777, so Fargate does not mount it root-owned), tini as PID 1 (SIGTERM reaches
 * node), non-blocking awslogs (stdout is also where the worker's CloudWatch EMF metrics go).
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
      runtimePlatform: { cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      volumes: [{ name: 'tmp' }],
    });

    this.container = this.taskDefinition.addContainer(props.name, {
      containerName: props.name,
      image: props.image,
      command: props.command,
      environment: {
        ...props.environment,
        NODE_ENV: 'production',
        // Migrations are a deploy step (the migrate task), never something tasks race to do at boot.
        DB_MIGRATE_ON_BOOT: 'false',
        // The catalog is deployment configuration, not code: one image serves every catalog.
        ...(props.modelsJson ? { MODELS_JSON: props.modelsJson } : {}),
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
