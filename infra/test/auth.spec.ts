import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Auth } from '../lib/constructs/auth.js';
import { hostedUiPrefix } from '../lib/stacks/auth-stack.js';
import { buildApp } from './helpers.js';

function synth(portalUrl?: string) {
  const stack = new Stack(new App(), 'AuthTest', { env: { region: 'eu-west-1' } });
  new Auth(stack, 'Auth', {
    domainPrefix: 'switchboard-test',
    portalUrl,
    extraPortalUrls: [],
    mfa: 'required',
    plus: false,
    adminGroup: 'admin',
  });
  return Template.fromStack(stack);
}

describe('Auth', () => {
  let template: Template;
  beforeAll(() => {
    template = synth('https://chat.example.com');
  });

  it('has a retained, admin-invited user pool with MFA and a strong password policy', () => {
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      DeletionProtection: 'ACTIVE',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
  });

  it('defines the switchboard resource server with jobs:read and jobs:write', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'switchboard',
      Scopes: [
        { ScopeName: 'jobs:read', ScopeDescription: Match.anyValue() },
        { ScopeName: 'jobs:write', ScopeDescription: Match.anyValue() },
      ],
    });
  });

  it('gives batch clients a confidential client-credentials client with the job scopes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith([
        { 'Fn::Join': ['', [{ Ref: Match.anyValue() }, '/jobs:read']] },
        { 'Fn::Join': ['', [{ Ref: Match.anyValue() }, '/jobs:write']] },
      ]),
    });
  });

  it('gives the portal a public authorization-code client on the hosted UI, calling back to the portal', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: Match.arrayWith(['openid', 'email', 'profile']),
      CallbackURLs: ['https://chat.example.com/auth/callback'],
      LogoutURLs: ['https://chat.example.com/sign-in'],
      SupportedIdentityProviders: ['COGNITO'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'switchboard-test' });
  });

  it('has the admin group', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'admin' });
  });

  it('falls back to a localhost callback without a domain (Cognito accepts http only there)', () => {
    synth(undefined).hasResourceProperties('AWS::Cognito::UserPoolClient', { CallbackURLs: ['http://localhost:4200/auth/callback'] });
  });

  it('puts the stack prefix into the hosted UI domain, so two deployments in one region never collide', () => {
    expect(hostedUiPrefix('Switchboard', 'switchboard-portal')).toBe('switchboard-portal');
    expect(hostedUiPrefix('Staging', 'switchboard-portal')).toBe('staging-switchboard-portal');
    const domains = ['Prod', 'Staging'].map((prefix) => {
      const built = buildApp({ prefix } as never);
      const [domain] = Object.values(Template.fromStack(built.auth).findResources('AWS::Cognito::UserPoolDomain'));
      return domain!.Properties.Domain as string;
    });
    expect(domains).toEqual(['prod-switchboard-portal', 'staging-switchboard-portal']);
  });
});
