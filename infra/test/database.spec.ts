import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { APP_DB_USER, Database, DB_PORT } from '../lib/constructs/database.js';
import { stackWithVpc } from './helpers.js';

describe('Database', () => {
  let template: Template;
  beforeAll(() => {
    const { stack, vpc, clients } = stackWithVpc();
    new Database(stack, 'Database', {
      vpc,
      clients,
      minAcu: 0.5,
      maxAcu: 4,
      readers: 1,
      backupRetentionDays: 7,
      logRetention: logs.RetentionDays.ONE_MONTH,
      clusterIdentifier: 'switchboard-db',
    });
    template = Template.fromStack(stack);
  });

  it('is Aurora PostgreSQL Serverless v2, encrypted and deletion-protected', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      DeletionProtection: true,
      Port: DB_PORT,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
      EnableCloudwatchLogsExports: ['postgresql'],
      BackupRetentionPeriod: 7,
    });
    template.resourcePropertiesCountIs('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' }, 2);
  });

  it('is retained when the stack is deleted, with its secret and the resources it runs on', () => {
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    for (const type of ['AWS::RDS::DBInstance', 'AWS::SecretsManager::Secret', 'AWS::RDS::DBSubnetGroup', 'AWS::RDS::DBClusterParameterGroup', 'AWS::EC2::SecurityGroup']) {
      const ours = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith('Database'));
      expect(ours.length).toBeGreaterThan(0);
      for (const [id, resource] of ours) expect([id, resource.DeletionPolicy]).toEqual([id, 'Retain']);
    }
  });

  it('forces TLS on the server; no composed DATABASE_URL secret (passwords travel as their own keys)', () => {
    template.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret', { Properties: { SecretString: Match.anyValue() } }))).toEqual([]);
  });

  it('generates the services\' own database role secret, apart from the master', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: JSON.stringify({ username: APP_DB_USER }), GenerateStringKey: 'password' }),
    });
  });

  it('keeps generated passwords URL-safe', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', { Properties: { GenerateSecretString: Match.anyValue() } });
    const [master] = Object.values(secrets);
    for (const c of '@:/?#%&+') expect(master!.Properties.GenerateSecretString.ExcludeCharacters).toContain(c);
  });
});
