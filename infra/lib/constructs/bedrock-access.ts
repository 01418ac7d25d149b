import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { profilePrefix } from '../params.js';

export interface BedrockAccessProps {
  /** Catalog model ids: foundation-model ids, system inference-profile ids or ARNs. */
  readonly modelIds: readonly string[];
  /** Regions each inference-profile prefix (us, eu, apac, …) routes to. */
  readonly profileRegions: Readonly<Record<string, readonly string[]>>;
}

/** The streaming and non-streaming runtime calls; Converse/ConverseStream authorize as these. */
export const BEDROCK_INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];

/**
 * Exactly the Bedrock resources the catalog names: a foundation model in this region, or an
 * inference profile plus its foundation model in each region the profile routes to (those only
 * when reached through that profile). No wildcard, no control-plane actions.
 */
export class BedrockAccess extends Construct {
  readonly statements: iam.PolicyStatement[];
  readonly directArns: string[];
  readonly profileArns: string[];
  readonly routedModelArns: string[];
  /** Application inference profiles in the catalog (ARNs); their foundation models are granted through them. */
  readonly applicationProfileArns: string[];

  constructor(scope: Construct, id: string, props: BedrockAccessProps) {
    super(scope, id);
    const { partition, region, account } = Stack.of(this);
    const fm = (r: string, model: string) => `arn:${partition}:bedrock:${r}::foundation-model/${model}`;

    const direct = new Set<string>();
    const profiles = new Set<string>();
    const routed = new Set<string>();
    const applicationProfiles = new Set<string>();
    for (const modelId of props.modelIds) {
      if (modelId.startsWith('arn:')) {
        direct.add(modelId);
        if (modelId.includes(':application-inference-profile/')) applicationProfiles.add(modelId);
        continue;
      }
      const prefix = profilePrefix(modelId);
      if (!prefix) {
        direct.add(fm(region, modelId));
        continue;
      }
      const model = modelId.slice(prefix.length + 1);
      profiles.add(`arn:${partition}:bedrock:${region}:${account}:inference-profile/${modelId}`);
      if (prefix === 'global') {
        // Global profiles route to any commercial region; Bedrock authorizes the region-less model ARN
        // and the model in the source region.
        routed.add(fm('', model));
        routed.add(fm(region, model));
      } else {
        for (const r of props.profileRegions[prefix] ?? []) routed.add(fm(r, model));
      }
    }
    this.directArns = [...direct].sort();
    this.profileArns = [...profiles].sort();
    this.routedModelArns = [...routed].sort();
    this.applicationProfileArns = [...applicationProfiles].sort();

    this.statements = [
      new iam.PolicyStatement({
        sid: 'InvokeCatalogModels',
        actions: BEDROCK_INVOKE_ACTIONS,
        resources: [...this.directArns, ...this.profileArns],
      }),
    ];
    if (this.routedModelArns.length > 0) {
      this.statements.push(
        new iam.PolicyStatement({
          sid: 'InvokeModelsThroughCatalogProfiles',
          actions: BEDROCK_INVOKE_ACTIONS,
          resources: this.routedModelArns,
          conditions: { StringEquals: { 'bedrock:InferenceProfileArn': this.profileArns } },
        }),
      );
    }
    if (this.applicationProfileArns.length > 0) {
      // An application inference profile names its model only inside Bedrock (it may wrap a
      // foundation model or a cross-region profile): Bedrock authorizes the call on the profile
      // and on the foundation model in whichever region it routes to. Any foundation model, but
      // only when reached through one of these profiles.
      this.statements.push(
        new iam.PolicyStatement({
          sid: 'InvokeModelsThroughApplicationProfiles',
          actions: BEDROCK_INVOKE_ACTIONS,
          resources: [`arn:${partition}:bedrock:*::foundation-model/*`],
          conditions: { StringEquals: { 'bedrock:InferenceProfileArn': this.applicationProfileArns } },
        }),
      );
    }
  }

  grantInvoke(grantee: iam.IGrantable): void {
    const policy = new iam.Policy(this, 'Policy', { statements: this.statements });
    policy.attachToRole(grantee.grantPrincipal as iam.IRole);
  }
}
