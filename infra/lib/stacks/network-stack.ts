import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Network } from '../constructs/network.js';
import type { Params } from '../params.js';

export interface NetworkStackProps extends StackProps {
  readonly params: Params;
}

/** Long-lived: the VPC outlives any release of the services. */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network, logRetentionDays } = props.params;
    this.vpc = new Network(this, 'Network', {
      ...network,
      logRetention: logRetentionDays as logs.RetentionDays,
    }).vpc;
  }
}
