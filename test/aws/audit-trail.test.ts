import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { CapacityAuditTrail, CapacityBlockInstanceType, CapacityBlockPurchase } from '../../lib';
import { MONEY_MOVES } from '../../lib/aws/core/audit';

describe('CapacityAuditTrail', () => {
  test('onMoneyMoved: a rule on the default bus for every money event, to the target given', () => {
    const stack = new Stack(new App(), 'Alerts');
    CapacityAuditTrail.onMoneyMoved(stack, 'MoneyMoved', { target: new targets.SnsTopic(new sns.Topic(stack, 'Finance')) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-capacity-reservations'], 'detail-type': CapacityAuditTrail.DETAIL_TYPES },
      Targets: [{ Arn: { Ref: 'FinanceA507B6ED' } }],
    });
  });

  test('the rule matches every detail-type the handlers send', () => {
    expect([...CapacityAuditTrail.DETAIL_TYPES].sort()).toEqual(MONEY_MOVES.filter(m => !m.startsWith('Future')).sort());
  });

  test('a purchase\'s onEvent role may put events on the default bus only, and only of this source', () => {
    const stack = new Stack(new App(), 'Training', { env: { account: '123456789012', region: 'us-east-1' } });
    new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 8000 });
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(p => (p as any).Properties.PolicyDocument.Statement).filter((s: any) => [s.Action].flat().includes('events:PutEvents'));
    expect(statements).toEqual([{
      Action: 'events:PutEvents', Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:123456789012:event-bus/default']] },
      Condition: { StringEquals: { 'events:source': 'cdk-capacity-reservations' } },
    }]);
  });
});
