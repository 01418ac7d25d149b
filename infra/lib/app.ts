import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AuthStack } from './stacks/auth-stack.js';
import { DataStack } from './stacks/data-stack.js';
import { NetworkStack } from './stacks/network-stack.js';
import { ServicesStack } from './stacks/services-stack.js';
import type { Params } from './params.js';

/** Users in this Cognito group are Switchboard admins (AUTH_ADMIN_GROUP). */
export const ADMIN_GROUP = 'admin';

export interface SwitchboardApp {
  readonly app: App;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly auth: AuthStack;
  readonly services: ServicesStack;
}

/**
 * Four stacks split by lifecycle: network and data and auth are long-lived and stateful
 * (termination-protected where they hold data); services is stateless and redeployed freely.
 */
/** Context every Switchboard app runs with (cdk.json repeats it for the CLI). */
export const APP_CONTEXT = {
  // Producer stacks (network, data, auth) refuse to drop outputs the services stack still imports.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

export function createSwitchboardApp(params: Params, app: App = new App({ context: APP_CONTEXT })): SwitchboardApp {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  const env = { region: params.region, account: params.account };
  const name = (s: string) => `${params.prefix}-${s}`;

  const network = new NetworkStack(app, name('Network'), { env, params, description: 'Switchboard: VPC, subnets, endpoints' });
  const data = new DataStack(app, name('Data'), {
    env,
    params,
    vpc: network.vpc,
    terminationProtection: true,
    description: 'Switchboard: ElastiCache Redis and Aurora PostgreSQL (stateful)',
  });
  const auth = new AuthStack(app, name('Auth'), {
    env,
    params,
    adminGroup: ADMIN_GROUP,
    terminationProtection: true,
    description: 'Switchboard: Cognito user pool, portal and batch clients (stateful)',
  });
  const services = new ServicesStack(app, name('Services'), {
    env,
    params,
    vpc: network.vpc,
    dataClients: data.clients,
    redis: data.redis,
    database: data.database,
    auth: auth.auth,
    adminGroup: ADMIN_GROUP,
    description: 'Switchboard: ECS cluster, api (ALB, portal) and worker services (stateless)',
  });

  Tags.of(app).add('app', 'switchboard');
  Tags.of(app).add('switchboard:deployment', params.prefix);
  return { app, network, data, auth, services };
}
