import * as ros from '@alicloud/ros-cdk-core';
import { _InstanceType } from '@aws-sdk/client-ec2';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AliCapacityReservation } from '../../lib/alicloud';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps } from '../../lib';
import { CAPACITY_BLOCK_INSTANCE_TYPES, instanceTypeError } from '../../lib/aws/validation';

/**
 * What plain JavaScript (and tsx, which does not type-check) passes to the constructors: props
 * missing, mistyped or misspelt. TypeScript and jsii's languages refuse these before they run; here
 * the construct must, in one line naming the prop, the value and the fix, instead of writing
 * "undefined" into the template or dropping the prop.
 */
type Untyped = Record<string, any>;

const AWS_PROPS: Untyped = {
  instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 6_500,
};

function awsBlock(props: Untyped): Stack {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-2' } });
  new CapacityBlockPurchase(stack, 'Block', props as CapacityBlockPurchaseProps);
  return stack;
}

function without(props: Untyped, key: string): Untyped {
  const { [key]: _dropped, ...rest } = props;
  return rest;
}

describe('CapacityBlockPurchase from plain JavaScript', () => {
  test.each<[string, Untyped, RegExp]>([
    ['no maxUpfrontFee', without(AWS_PROPS, 'maxUpfrontFee'), /maxUpfrontFee is required: the most you will pay up front, in currencyCode \(USD by default\), e\.g\. maxUpfrontFee: 6500/],
    ['maxUpfrontFee as a string', { ...AWS_PROPS, maxUpfrontFee: '6500' }, /maxUpfrontFee must be a number, got string "6500"; write it without quotes/],
    ['instanceType as a string', { ...AWS_PROPS, instanceType: 'p5.48xlarge' }, /instanceType must be a CapacityBlockInstanceType such as CapacityBlockInstanceType\.P5_48XLARGE or CapacityBlockInstanceType\.of\('p5\.48xlarge'\), got string "p5\.48xlarge"/],
    ['no duration', without(AWS_PROPS, 'duration'), /duration is required: how long the block lasts, e\.g\. duration: Duration\.days\(2\)/],
    ['duration as a number of days', { ...AWS_PROPS, duration: 2 }, /duration must be a Duration such as Duration\.days\(2\), got number 2/],
    ['previewOnly misspelt', { ...AWS_PROPS, previewonly: true }, /unknown prop 'previewonly'; did you mean 'previewOnly'\?/],
    ['previewOnly as a string', { ...AWS_PROPS, previewOnly: 'true' }, /previewOnly must be true or false, got string "true"; write it without quotes/],
    ['earliestStart as a string', { ...AWS_PROPS, earliestStart: '2027-01-01' }, /earliestStart must be a Date, got string "2027-01-01"/],
    ['selection not one of the enum', { ...AWS_PROPS, selection: 'cheapest' }, /selection must be one of 'CHEAPEST', 'EARLIEST_START', got string "cheapest"/],
    ['props not an object', undefined as unknown as Untyped, /props must be an object, got undefined/],
  ])('fails at construction on %s, naming the prop, and synthesizes nothing', (_case, props, message) => {
    expect(() => awsBlock(props)).toThrow(message);
  });

  test('lists every problem at once, on one line', () => {
    expect(() => awsBlock({ instanceType: 'p5.48xlarge', instanceCount: '4', duration: Duration.days(2) }))
      .toThrow(/^CapacityBlockPurchase Stack\/Block: instanceType must be .*; instanceCount must be a number, got string "4"; write it without quotes; maxUpfrontFee is required: [^;]*$/);
  });

  test('accepts the README example, and tokens, unchanged', () => {
    const stack = awsBlock(AWS_PROPS);
    Template.fromStack(stack).hasResourceProperties('Custom::CapacityBlockPurchase', { MaxUpfrontFee: '6500', InstanceType: 'p5.48xlarge' });
  });
});

describe('instance types', () => {
  test('every Capacity Block type is well formed and named by a CapacityBlockInstanceType constant', () => {
    const constants = Object.values(CapacityBlockInstanceType).filter((v): v is CapacityBlockInstanceType => v instanceof CapacityBlockInstanceType).map(t => t.name);
    expect([...constants].sort()).toEqual([...CAPACITY_BLOCK_INSTANCE_TYPES].sort());
    expect(CAPACITY_BLOCK_INSTANCE_TYPES.filter(t => instanceTypeError(t) !== undefined)).toEqual([]);
  });

  test('every instance type of the EC2 API model is well formed; the Capacity Block list is exactly the model\'s types of those families', () => {
    const model: string[] = Object.values(_InstanceType);
    const families = new Set(CAPACITY_BLOCK_INSTANCE_TYPES.map(t => t.split('.')[0]));

    expect(model.filter(t => instanceTypeError(t) !== undefined)).toEqual([]);
    // trn1.2xlarge is a Trainium type EC2 does not sell as Capacity Blocks (only trn1.32xlarge).
    const notSoldAsBlocks = ['trn1.2xlarge'];
    expect(model.filter(t => families.has(t.split('.')[0]) && !notSoldAsBlocks.includes(t)).sort()).toEqual([...CAPACITY_BLOCK_INSTANCE_TYPES].sort());
  });

  test.each(['p5.48xlarg', 'p5.48', 'p5.48xlarge ', 'P5.48xlarge'])('fails on %s, which no EC2 instance type is spelt like', name => {
    expect(() => CapacityBlockInstanceType.of(name)).toThrow(`instanceType must be an EC2 instance type such as p5.48xlarge, got '${name}'`);
  });

  test.each([
    ['m5.large', /instanceType m5\.large is not an instance type EC2 sells as Capacity Blocks in the EC2 API model this release was built with \(p4d\.24xlarge, .*trn2u\.48xlarge\); check the spelling, or acknowledge this warning if EC2 sells it now/],
    ['p5.96xlarge', /instanceType p5\.96xlarge is not an instance type EC2 sells as Capacity Blocks .* \(p5\.4xlarge, p5\.48xlarge\)/],
  ])('warns at synth on %s, which EC2 did not sell as Capacity Blocks at release', (name, message) => {
    const stack = awsBlock({ ...AWS_PROPS, instanceType: CapacityBlockInstanceType.of(name) });
    Annotations.fromStack(stack).hasWarning('/Stack/Block', Match.stringLikeRegexp(message.source));
  });

  test('a Capacity Block type synthesizes without a warning', () => {
    const stack = awsBlock({ ...AWS_PROPS, instanceType: CapacityBlockInstanceType.of('p5e.48xlarge') });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

const ALI_PROPS: Untyped = { instanceType: 'ecs.gn7i-c8g1.2xlarge', instanceAmount: 4, zoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'] };

function aliPool(props: Untyped): ros.Stack {
  const stack = new ros.Stack(new ros.App(), 'GpuPool');
  new AliCapacityReservation(stack, 'Pool', props as never);
  return stack;
}

describe('AliCapacityReservation from plain JavaScript', () => {
  test.each<[string, Untyped, RegExp]>([
    ['instanceAmount misspelt', { ...without(ALI_PROPS, 'instanceAmount'), instanceAmmount: 4 }, /unknown prop 'instanceAmmount'; did you mean 'instanceAmount'\?; instanceAmount is required: how many instances to reserve, e\.g\. instanceAmount: 4/],
    ['zoneIds as one string', { ...ALI_PROPS, zoneIds: 'cn-hangzhou-h' }, /zoneIds must be an array of strings, got string "cn-hangzhou-h"; write \['cn-hangzhou-h'\]/],
    ['zoneIds of two regions', { ...ALI_PROPS, zoneIds: ['cn-hangzhou-h', 'cn-shanghai-b'] }, /zoneIds must all be zones of one region \(the stack's\), got zones of cn-hangzhou and cn-shanghai: cn-hangzhou-h, cn-shanghai-b/],
    ['no instanceType', without(ALI_PROPS, 'instanceType'), /instanceType is required: one ECS instance type, e\.g\. instanceType: 'ecs\.gn7i-c8g1\.2xlarge'/],
    ['instanceAmount as a string', { ...ALI_PROPS, instanceAmount: '4' }, /instanceAmount must be a number, got string "4"; write it without quotes/],
    ['matchCriteria not one of the enum', { ...ALI_PROPS, matchCriteria: 'target' }, /matchCriteria must be one of 'Open', 'Target', got string "target"/],
  ])('fails at construction on %s, naming the prop', (_case, props, message) => {
    expect(() => aliPool(props)).toThrow(message);
  });

  test('warns at synth on an instance type whose size ECS does not use', () => {
    const stack = aliPool({ ...ALI_PROPS, instanceType: 'ecs.gn7i-c8g1.2xlarg' });
    const warnings = stack.node.findAll().flatMap(c => c.node.metadata.filter(m => m.type === 'aliyun:ros:warning').map(m => m.data));
    expect(warnings).toEqual(['instanceType ecs.gn7i-c8g1.2xlarg does not end in a size ECS uses (large, xlarge, 2xlarge, ...); check the spelling, e.g. ecs.gn7i-c8g1.2xlarge']);
  });

  test('accepts the README example without a warning', () => {
    const stack = aliPool(ALI_PROPS);
    expect(stack.node.findAll().flatMap(c => c.node.metadata.filter(m => /warning|error/.test(m.type)))).toEqual([]);
  });
});
