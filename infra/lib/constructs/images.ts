import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { IgnoreMode } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

/** The repository root: both Dockerfiles build with it as their context. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The api and worker images, built from `api/Dockerfile` and `worker/Dockerfile` and pushed to the
 * CDK bootstrap repository by `cdk deploy`. The context honours the root `.dockerignore`.
 */
export interface ImagesProps {
  /** Build the worker image for ARM64 (Graviton workers). */
  readonly workerArm64?: boolean;
  /** RDS CA bundle checksum the image build verifies (Dockerfile build arg RDS_CA_BUNDLE_SHA256). */
  readonly rdsCaBundleSha256?: string;
}

export class Images extends Construct {
  readonly api: ecs.ContainerImage;
  readonly worker: ecs.ContainerImage;
  readonly apiAsset: ecrAssets.DockerImageAsset;
  readonly workerAsset: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: ImagesProps = {}) {
    super(scope, id);
    const common = {
      buildArgs: props.rdsCaBundleSha256 ? { RDS_CA_BUNDLE_SHA256: props.rdsCaBundleSha256 } : undefined,
      directory: REPO_ROOT,
      platform: ecrAssets.Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
      // Never hash (or send) the synth output or local state into the image context.
      exclude: ['infra/cdk.out', '**/cdk.out', '.git', '**/node_modules', '.nx', '.jest-cache', '.data'],
    };
    this.apiAsset = new ecrAssets.DockerImageAsset(this, 'Api', { ...common, file: 'api/Dockerfile' });
    this.workerAsset = new ecrAssets.DockerImageAsset(this, 'Worker', {
      ...common,
      file: 'worker/Dockerfile',
      platform: props.workerArm64 ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
    });
    this.api = ecs.ContainerImage.fromDockerImageAsset(this.apiAsset);
    this.worker = ecs.ContainerImage.fromDockerImageAsset(this.workerAsset);
  }
}
