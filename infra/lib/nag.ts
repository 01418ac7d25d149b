import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Acknowledge a cdk-nag rule on a construct (and its children), with the reason kept in code. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
