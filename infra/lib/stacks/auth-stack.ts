import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Auth } from '../constructs/auth.js';
import { acknowledge } from '../nag.js';
import type { Params } from '../params.js';

export interface AuthStackProps extends StackProps {
  readonly params: Params;
  readonly adminGroup: string;
}

/**
 * The hosted UI prefix carries the deployment's stack prefix, so two deployments in one region (or
 * account) never ask Cognito for the same domain: `staging` + `switchboard-portal` →
 * `staging-switchboard-portal`. A prefix already containing it is kept as given.
 */
export function hostedUiPrefix(stackPrefix: string, domainPrefix: string): string {
  const prefix = stackPrefix.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const full = domainPrefix.includes(prefix) ? domainPrefix : `${prefix}-${domainPrefix}`;
  return full.slice(0, 63).replace(/-+$/, '');
}

/** Stateful: the user pool holds users and MFA enrolments; retained and deletion-protected. */
export class AuthStack extends Stack {
  readonly auth: Auth;

  constructor(scope: Construct, id: string, props: AuthStackProps) {
    super(scope, id, props);
    const { params } = props;

    this.auth = new Auth(this, 'Auth', {
      domainPrefix: hostedUiPrefix(params.prefix, params.auth.domainPrefix),
      portalUrl: params.domainName ? `https://${params.domainName}` : undefined,
      extraPortalUrls: params.auth.extraPortalUrls,
      mfa: params.auth.mfa,
      plus: params.auth.plus,
      adminGroup: props.adminGroup,
    });

    if (!params.auth.plus) {
      acknowledge(
        this.auth.userPool,
        'AwsSolutions-COG8',
        'Plus tier (threat protection) is billed per monthly active user; enterprises usually federate to their IdP, which carries the risk controls. Turn it on with -c auth.plus=true.',
      );
    }
    if (params.auth.mfa !== 'required') {
      acknowledge(
        this.auth.userPool,
        'AwsSolutions-COG2',
        'MFA set to optional by explicit operator choice (auth.mfa=optional), e.g. when users sign in through a federated IdP that enforces MFA.',
      );
    }

    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'Issuer', { value: this.auth.issuer });
    new CfnOutput(this, 'HostedUi', { value: this.auth.hostedUiUrl });
    new CfnOutput(this, 'PortalClientId', { value: this.auth.portalClient.userPoolClientId });
    new CfnOutput(this, 'BatchClientId', { value: this.auth.batchClient.userPoolClientId });
    new CfnOutput(this, 'TokenEndpoint', { value: `${this.auth.hostedUiUrl}/oauth2/token` });
  }
}
