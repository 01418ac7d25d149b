import { CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Acknowledge a cdk-nag rule on a construct (and its children), with the reason kept in code. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** How cdk-nag prints a resource's ARN attribute in a finding id: `<LogicalId.Arn>`. */
export function findingArnOf(resource: IConstruct): string {
  const element = (resource.node.defaultChild ?? resource) as CfnElement;
  return `<${Stack.of(resource).getLogicalId(element)}.Arn>`;
}

/** How cdk-nag prints `arn:<partition>:ecs:<region>:<account>:task/<cluster>/*`. */
export function findingTaskArnsOf(cluster: IConstruct): string {
  const stack = Stack.of(cluster);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const element = (cluster.node.defaultChild ?? cluster) as CfnElement;
  return `arn:<AWS::Partition>:ecs:${region}:<AWS::AccountId>:task/<${stack.getLogicalId(element)}>/*`;
}
