import { _InstanceType } from '@aws-sdk/client-ec2';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, UltraServerType } from '../../lib';

const RESOURCE_TYPE = 'Custom::CapacityBlockPurchase';

function newStack(): Stack {
  return new Stack(new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } }), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
}

const ULTRA: CapacityBlockPurchaseProps = {
  ultraserverType: UltraServerType.P6E_GB200_X72,
  ultraserverCount: 2,
  duration: Duration.days(1),
  maxUpfrontFee: 70_000,
};

function ultra(stack: Stack, overrides: Partial<CapacityBlockPurchaseProps> = {}): CapacityBlockPurchase {
  return new CapacityBlockPurchase(stack, 'Ultra', { ...ULTRA, ...overrides });
}

function logicalId(template: Template): string {
  return Object.keys(template.findResources(RESOURCE_TYPE))[0];
}

describe('UltraServer props', () => {
  test('writes UltraserverType and UltraserverCount, no instance keys, and AllAvailabilityZones when asked', () => {
    const stack = newStack();
    ultra(stack, { allAvailabilityZones: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties(RESOURCE_TYPE, {
      UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', AllAvailabilityZones: 'true',
      InstanceType: Match.absent(), InstanceCount: Match.absent(),
    });
  });

  test('instance blocks write no UltraServer keys', () => {
    const stack = newStack();
    new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 2, duration: Duration.days(1), maxUpfrontFee: 9_000 });
    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { UltraserverType: Match.absent(), UltraserverCount: Match.absent(), AllAvailabilityZones: Match.absent() });
  });

  test('UltraServerType.of accepts a type EC2 adds later and refuses what is not one', () => {
    expect(UltraServerType.of('u-p7x144', 'p7.48xlarge')).toMatchObject({ name: 'u-p7x144', instanceType: 'p7.48xlarge' });
    expect(() => UltraServerType.of('p6e-gb200.36xlarge')).toThrow(/ultraserverType must be an EC2 UltraServer type such as u-p6e-gb200x72, got 'p6e-gb200.36xlarge'/);
  });

  test.each<[string, Partial<CapacityBlockPurchaseProps>, RegExp]>([
    ['instance and UltraServer props together', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 2 }, /instanceType\/instanceCount and ultraserverType\/ultraserverCount cannot be combined/],
    ['an UltraServer type without a count', { ultraserverCount: undefined }, /an UltraServer block needs both ultraserverType and ultraserverCount; set ultraserverCount/],
    ['an UltraServer count without a type', { ultraserverType: undefined }, /an UltraServer block needs both ultraserverType and ultraserverCount; set ultraserverType/],
    ['an ultraserverCount of 0', { ultraserverCount: 0 }, /ultraserverCount must be a whole number of UltraServers, 1 or more, got 0/],
    ['an ultraserverCount of 1.5', { ultraserverCount: 1.5 }, /ultraserverCount must be a whole number of UltraServers, 1 or more, got 1.5/],
  ])('fails at synth on %s, in one line', (_name, overrides, message) => {
    expect(() => ultra(newStack(), overrides)).toThrow(message);
    expect(() => ultra(newStack(), overrides)).not.toThrow(/\n/);
  });

  test('fails at synth on a block with neither instances nor UltraServers', () => {
    expect(() => new CapacityBlockPurchase(newStack(), 'Empty', { duration: Duration.days(1), maxUpfrontFee: 1 }))
      .toThrow(/a Capacity Block needs instanceType and instanceCount \(or ultraserverType and ultraserverCount\); set them/);
  });

  test('an UltraServer block leaves room for one more library tag: 44 user tags at most', () => {
    const stack = newStack();
    ultra(stack, { tags: Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`k${i}`, 'v'])) });
    expect(() => Template.fromStack(stack)).toThrow(/an UltraServer Capacity Block takes at most 44 tags \(EC2 allows 50, this library writes 6\), got 45/);
  });
});

describe('UltraServer attributes', () => {
  test('capacityReservationIds splits the CapacityReservationIds attribute; capacityBlockId and interconnectStatus are attributes', () => {
    const stack = newStack();
    const b = ultra(stack);
    const id = logicalId(Template.fromStack(stack));
    expect(stack.resolve(b.capacityReservationIds)).toEqual({ 'Fn::Split': [',', { 'Fn::GetAtt': [id, 'CapacityReservationIds'] }] });
    expect(stack.resolve(b.capacityBlockId)).toEqual({ 'Fn::GetAtt': [id, 'CapacityBlockId'] });
    expect(stack.resolve(b.interconnectStatus)).toEqual({ 'Fn::GetAtt': [id, 'InterconnectStatus'] });
  });
});

describe('launching into an UltraServer block', () => {
  test('applyToLaunchTemplate targets a Capacity Reservation resource group holding every reservation of the block, with the capacity-block market type', () => {
    const stack = newStack();
    const b = ultra(stack);
    const lt = new ec2.LaunchTemplate(stack, 'Nodes', { instanceType: new ec2.InstanceType('p6e-gb200.36xlarge') });

    b.applyToLaunchTemplate(lt);
    b.applyToLaunchTemplate(new ec2.LaunchTemplate(stack, 'MoreNodes', {}));

    const template = Template.fromStack(stack);
    const id = logicalId(template);
    template.resourceCountIs('AWS::ResourceGroups::Group', 1);
    template.hasResourceProperties('AWS::ResourceGroups::Group', {
      Configuration: [
        { Type: 'AWS::EC2::CapacityReservationPool' },
        { Type: 'AWS::ResourceGroups::Generic', Parameters: [{ Name: 'allowed-resource-types', Values: ['AWS::EC2::CapacityReservation'] }] },
      ],
      Resources: { 'Fn::Split': [',', { 'Fn::GetAtt': [id, 'CapacityReservationArns'] }] },
    });
    const group = Object.keys(template.findResources('AWS::ResourceGroups::Group'))[0];
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationResourceGroupArn: { 'Fn::GetAtt': [group, 'Arn'] } } },
        InstanceMarketOptions: { MarketType: 'capacity-block' },
      },
    });
    // One target only: a reservation id beside the group would send every launch to one UltraServer.
    const data = Object.values(template.findResources('AWS::EC2::LaunchTemplate')).map(r => r.Properties.LaunchTemplateData.CapacityReservationSpecification.CapacityReservationTarget);
    expect(data.every(t => t.CapacityReservationId === undefined)).toBe(true);
  });

  test('fails to apply an UltraServer block to a launch template of another instance type than its nodes', () => {
    const stack = newStack();
    const b = ultra(stack);
    expect(() => b.applyToLaunchTemplate(new ec2.LaunchTemplate(stack, 'Nodes', { instanceType: new ec2.InstanceType('p5.48xlarge') })))
      .toThrow(/launch template Stack\/Nodes has instanceType p5.48xlarge, but Capacity Block Stack\/Ultra reserves UltraServers of u-p6e-gb200x72, whose nodes are p6e-gb200.36xlarge; use the same instance type/);
  });

  test('a previewOnly UltraServer block gives a launch template the market type only: no resource group, no target', () => {
    const stack = newStack();
    const b = ultra(stack, { previewOnly: true });
    b.applyToLaunchTemplate(new ec2.LaunchTemplate(stack, 'Nodes', {}));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ResourceGroups::Group', 0);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceMarketOptions: { MarketType: 'capacity-block' }, CapacityReservationSpecification: Match.absent() }) });
  });

  test.each(['onDelivered', 'onExpirationWarning'] as const)('%s matches the event of every reservation of the block (EC2 sends one per reservation)', method => {
    const stack = newStack();
    const b = ultra(stack);
    b[method]('Rule');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { 'capacity-reservation-id': { 'Fn::Split': [',', { 'Fn::GetAtt': [logicalId(template), 'CapacityReservationIds'] }] } } },
    });
  });
});

describe('the known types', () => {
  test('every CapacityBlockInstanceType constant is an instance type of the official EC2 model, today\'s Capacity Block types included', () => {
    const constants = Object.values(CapacityBlockInstanceType).filter((v): v is CapacityBlockInstanceType => v instanceof CapacityBlockInstanceType).map(t => t.name);
    expect(constants).toEqual(expect.arrayContaining(['p6-b300.48xlarge', 'p6-b200.48xlarge', 'p5.4xlarge', 'p5e.48xlarge', 'p5en.48xlarge', 'trn2.3xlarge', 'trn2.48xlarge']));
    const known = new Set<string>(Object.values(_InstanceType));
    expect(constants.filter(name => !known.has(name))).toEqual([]);
  });

  test('every UltraServerType constant names the node type it runs, itself an instance type of the EC2 model', () => {
    const constants = Object.values(UltraServerType).filter((v): v is UltraServerType => v instanceof UltraServerType);
    expect(constants.map(t => t.name)).toEqual(expect.arrayContaining(['u-p6e-gb200x72', 'u-trn2x64']));
    const known = new Set<string>(Object.values(_InstanceType));
    expect(constants.filter(t => !t.instanceType || !known.has(t.instanceType))).toEqual([]);
  });
});
