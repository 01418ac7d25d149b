import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface AuthProps {
  /** Hosted UI prefix (https://<prefix>.auth.<region>.amazoncognito.com). */
  readonly domainPrefix: string;
  /** Where the portal is served, e.g. https://chat.example.com; undefined until a domain is configured. */
  readonly portalUrl?: string;
  /** More portal base URLs that sign in with the portal client. */
  readonly extraPortalUrls: string[];
  readonly mfa: 'required' | 'optional';
  readonly plus: boolean;
  readonly adminGroup: string;
}

/** Scopes of the `switchboard` resource server; tokens carry them as `switchboard/jobs:read`. */
export const RESOURCE_SERVER_ID = 'switchboard';
export const JOB_SCOPES = [
  { name: 'jobs:read', description: 'Read own summarization jobs' },
  { name: 'jobs:write', description: 'Submit and cancel summarization jobs' },
] as const;

/**
 * Cognito: users (admin-invited, MFA), the portal's public OIDC client (authorization code + PKCE
 * through the hosted UI), the `switchboard` resource server with job scopes, a confidential
 * client-credentials client for batch systems, and the admin group.
 */
export class Auth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly portalClient: cognito.UserPoolClient;
  readonly batchClient: cognito.UserPoolClient;
  readonly resourceServer: cognito.UserPoolResourceServer;
  readonly domain: cognito.UserPoolDomain;
  /** The issuer the API verifies tokens against (AUTH_ISSUER). */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: props.mfa === 'required' ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: props.plus ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      ...(props.plus ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION } : {}),
      deletionProtection: true,
      // Users and their MFA devices cannot be recreated: keep the pool when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      managedLoginVersion: cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });

    this.resourceServer = this.userPool.addResourceServer('Api', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'Switchboard API',
      scopes: JOB_SCOPES.map((s) => new cognito.ResourceServerScope({ scopeName: s.name, scopeDescription: s.description })),
    });
    const jobScopes = JOB_SCOPES.map((s) =>
      cognito.OAuthScope.resourceServer(this.resourceServer, new cognito.ResourceServerScope({ scopeName: s.name, scopeDescription: s.description })),
    );

    // Cognito accepts http:// callbacks for localhost only: without a domain the portal signs in from a local dev server.
    const portals = [...(props.portalUrl ? [props.portalUrl] : []), ...props.extraPortalUrls].map((u) => u.replace(/\/+$/, ''));
    if (portals.length === 0) portals.push('http://localhost:4200');
    // The portal's routes: back from the hosted UI at /auth/callback, back from /logout at /sign-in.
    const callbackUrls = portals.map((p) => `${p}/auth/callback`);
    const logoutUrls = portals.map((p) => `${p}/sign-in`);

    this.portalClient = this.userPool.addClient('Portal', {
      userPoolClientName: 'switchboard-portal',
      // A browser app cannot keep a secret: public client, authorization code with PKCE.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE, ...jobScopes],
        callbackUrls,
        logoutUrls,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });

    this.batchClient = this.userPool.addClient('Batch', {
      userPoolClientName: 'switchboard-batch-default',
      generateSecret: true,
      oAuth: { flows: { clientCredentials: true }, scopes: jobScopes },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
    });
    this.batchClient.node.addDependency(this.resourceServer);
    this.portalClient.node.addDependency(this.resourceServer);

    new cognito.CfnUserPoolGroup(this, 'AdminGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: props.adminGroup,
      description: 'Switchboard administrators (AUTH_ADMIN_GROUP)',
    });

    this.issuer = `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${this.userPool.userPoolId}`;
  }

  /** Hosted UI base URL, e.g. https://switchboard-portal.auth.eu-west-1.amazoncognito.com */
  get hostedUiUrl(): string {
    return this.domain.baseUrl();
  }
}
