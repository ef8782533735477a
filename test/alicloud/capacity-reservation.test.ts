import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { GpuPoolStack } from '../../examples/alicloud/stack';
import {
  AliCapacityReservation, AliCapacityReservationProps, ECS_ACTIONS, MatchCriteria, ReservationPlatform, ReservationRemovalPolicy, ROS_ACTIONS,
} from '../../lib/alicloud';

const RESERVATION = 'ALIYUN::ROS::CustomResource';
const FUNCTION = 'ALIYUN::FC3::Function';
const ROLE = 'ALIYUN::RAM::Role';

const REQUIRED: AliCapacityReservationProps = {
  instanceType: 'ecs.gn7i-c8g1.2xlarge',
  instanceAmount: 2,
  zoneIds: ['cn-hangzhou-i', 'cn-hangzhou-h'],
};

const DAY_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Helpers: ROS CDK has no assertions library, so tests read the synthesized template JSON.
// ---------------------------------------------------------------------------------------------

const outdirs: string[] = [];
afterAll(() => outdirs.forEach(dir => fs.rmSync(dir, { recursive: true, force: true })));

function newApp(): ros.App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-'));
  outdirs.push(outdir);
  return new ros.App({ outdir });
}

function newStack(app: ros.App = newApp(), id = 'Test'): ros.Stack {
  return new ros.Stack(app, id);
}

function reservation(stack: ros.Construct, overrides: Partial<AliCapacityReservationProps> = {}, id = 'GpuPool'): AliCapacityReservation {
  return new AliCapacityReservation(stack, id, { ...REQUIRED, ...overrides });
}

/** Synthesizes the app a stack belongs to and returns that stack's ROS template. */
function synth(stack: ros.Stack): any {
  const app = stack.node.root as ros.App;
  return app.synth().getStackByName(stack.artifactId).template;
}

/** The template of a fresh stack 'Test' after `build` has added constructs to it. */
function template(build: (stack: ros.Stack) => void): any {
  const stack = newStack();
  build(stack);
  return synth(stack);
}

function resourcesOfType(tpl: any, type: string): Record<string, any> {
  return Object.fromEntries(Object.entries<any>(tpl.Resources ?? {}).filter(([, r]) => r.Type === type));
}

/** The only resource of a type: its logical id and definition. */
function only(tpl: any, type: string): { id: string; resource: any } {
  const found = Object.entries(resourcesOfType(tpl, type));
  expect(found).toHaveLength(1);
  return { id: found[0][0], resource: found[0][1] };
}

/** The Parameters of the custom resource 'GpuPool' of a stack with one reservation built from overrides. */
function parametersFor(overrides: Partial<AliCapacityReservationProps>): Record<string, unknown> {
  return template(stack => reservation(stack, overrides)).Resources.GpuPool.Properties.Parameters;
}

function manyTags(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, `value${i}`]));
}

// ---------------------------------------------------------------------------------------------

describe('provider', () => {
  test('one function and one role serve every reservation of a stack', () => {
    const tpl = template(stack => {
      for (let i = 0; i < 20; i++) reservation(stack, {}, `Pool${i}`);
    });

    expect(Object.keys(resourcesOfType(tpl, FUNCTION))).toHaveLength(1);
    expect(Object.keys(resourcesOfType(tpl, ROLE))).toHaveLength(1);
    expect(Object.keys(resourcesOfType(tpl, RESERVATION))).toHaveLength(20);
  });

  test('each custom resource is named by the construct id the user gave', () => {
    const tpl = template(stack => {
      reservation(stack, {}, 'GpuPool');
      reservation(stack, {}, 'TrainingPool');
    });

    expect(Object.keys(resourcesOfType(tpl, RESERVATION)).sort()).toEqual(['GpuPool', 'TrainingPool']);
  });

  test('each stack of an app gets its own function', () => {
    const app = newApp();
    const first = newStack(app, 'First');
    const second = newStack(app, 'Second');
    reservation(first);
    reservation(second);

    const assembly = app.synth();
    for (const stack of [first, second]) {
      const tpl = assembly.getStackByName(stack.artifactId).template;
      expect(Object.keys(resourcesOfType(tpl, FUNCTION))).toHaveLength(1);
      expect(Object.keys(resourcesOfType(tpl, ROLE))).toHaveLength(1);
    }
  });
});

describe('custom resource', () => {
  test('the service token is the ARN of the stack\'s function', () => {
    const tpl = template(stack => reservation(stack));
    const fn = only(tpl, FUNCTION);

    expect(tpl.Resources.GpuPool.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [fn.id, 'ARN'] });
  });

  test.each([
    ['the default wait of 600 seconds', {}, 900],
    ['a wait of 1200 seconds', { waitTimeout: 1200 }, 1500],
  ])('ROS waits 300 seconds longer than %s', (_, overrides: Partial<AliCapacityReservationProps>, timeout) => {
    const tpl = template(stack => reservation(stack, overrides));

    expect(tpl.Resources.GpuPool.Properties.Timeout).toBe(timeout);
  });

  test('a waitTimeout parameter still leaves ROS 300 seconds on top of the wait', () => {
    const tpl = template(stack => {
      const wait = new ros.RosParameter(stack, 'Wait', { type: ros.RosParameterType.NUMBER });
      reservation(stack, { waitTimeout: wait.valueAsNumber });
    });
    const props = tpl.Resources.GpuPool.Properties;

    expect(props.Parameters.WaitTimeoutSeconds).toEqual({ Ref: 'Wait' });
    // Without the margin ROS gives up while the handler is still releasing and responding.
    expect(props.Timeout).toEqual({ 'Fn::Add': [{ Ref: 'Wait' }, 300] });
  });

  test('required props are written as given, zones in order, and every optional key is omitted', () => {
    const parameters = parametersFor({ instanceAmount: 4, zoneIds: ['cn-hangzhou-k', 'cn-hangzhou-h', 'cn-hangzhou-i'] });

    expect(parameters).toEqual({
      InstanceType: 'ecs.gn7i-c8g1.2xlarge',
      InstanceAmount: 4,
      ZoneIds: ['cn-hangzhou-k', 'cn-hangzhou-h', 'cn-hangzhou-i'],
    });
  });

  test('every optional prop is written when given', () => {
    const parameters = parametersFor({
      name: 'gpu-pool',
      description: 'GPU capacity for inference',
      matchCriteria: MatchCriteria.TARGET,
      endTime: '2099-12-31T23:59:59Z',
      platform: ReservationPlatform.WINDOWS,
      resourceGroupId: 'rg-acfmxazb4ph6aiy',
      tags: { team: 'inference', env: 'prod' },
      removalPolicy: ReservationRemovalPolicy.RETAIN,
      waitTimeout: 1200,
    });

    expect(parameters).toEqual({
      InstanceType: 'ecs.gn7i-c8g1.2xlarge',
      InstanceAmount: 2,
      ZoneIds: ['cn-hangzhou-i', 'cn-hangzhou-h'],
      Name: 'gpu-pool',
      Description: 'GPU capacity for inference',
      MatchCriteria: 'Target',
      EndTime: '2099-12-31T23:59:59Z',
      Platform: 'Windows',
      ResourceGroupId: 'rg-acfmxazb4ph6aiy',
      Tags: [{ Key: 'team', Value: 'inference' }, { Key: 'env', Value: 'prod' }],
      RemovalPolicy: 'retain',
      WaitTimeoutSeconds: 1200,
    });
  });

  test('removalPolicy RETAIN_ON_UPDATE_OR_DELETE (CloudFormation\'s RetainExceptOnCreate) is written for the handler, which releases on create rollback only', () => {
    expect(parametersFor({ removalPolicy: ReservationRemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE }).RemovalPolicy).toBe('retain-on-update-or-delete');
  });

  test('fails at synth on a removalPolicy the handler does not know (plain JavaScript)', () => {
    expect(() => reservation(newStack(), { removalPolicy: 'destroy' as ReservationRemovalPolicy }))
      .toThrow(/removalPolicy must be one of 'release', 'retain', 'retain-on-update-or-delete', got string "destroy"/);
  });

  test('an endTime Date is written as yyyy-MM-ddTHH:mm:ssZ without milliseconds', () => {
    const parameters = parametersFor({ endTime: new Date('2099-06-30T12:34:56.789Z') });

    expect(parameters.EndTime).toBe('2099-06-30T12:34:56Z');
  });
});

describe('RAM role', () => {
  interface Statement {
    readonly Action: string | string[];
    readonly Resource: unknown;
  }
  const actionsOf = (s: Statement): string[] => [s.Action].flat();
  const resourcesOf = (s: Statement): unknown[] => [s.Resource].flat();

  let role: any;
  let statements: Statement[];
  beforeAll(() => {
    role = only(template(stack => reservation(stack)), ROLE).resource;
    statements = (role.Properties.Policies as any[]).flatMap(p => p.PolicyDocument.Statement as Statement[]);
  });

  test('grants exactly the ECS and ROS actions the handler calls, without wildcards', () => {
    const granted = statements.flatMap(actionsOf);

    expect(new Set(granted)).toEqual(new Set([...ECS_ACTIONS, ...ROS_ACTIONS]));
    expect(granted.filter(a => a.includes('*'))).toEqual([]);
  });

  test('nothing is granted on every resource: RAM scopes DescribeCapacityReservations to capacityreservation/* too', () => {
    expect(statements.filter(s => resourcesOf(s).includes('*'))).toEqual([]);
  });

  test('ECS actions are scoped to capacity reservations of the stack\'s account and region, ros:GetStack to the stack itself', () => {
    expect(statements.map(s => [actionsOf(s), resourcesOf(s)])).toEqual([
      [[...ECS_ACTIONS], [{ 'Fn::Sub': 'acs:ecs:${ALIYUN::Region}:${ALIYUN::AccountId}:capacityreservation/*' }]],
      [[...ROS_ACTIONS], [{ 'Fn::Sub': 'acs:ros:${ALIYUN::Region}:${ALIYUN::AccountId}:stack/${ALIYUN::StackId}' }]],
    ]);
  });

  test('trusts Function Compute to assume it', () => {
    const trust = role.Properties.AssumeRolePolicyDocument.Statement as any[];

    expect(trust).toEqual([expect.objectContaining({
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: ['fc.aliyuncs.com'] },
    })]);
  });
});

describe('function', () => {
  let tpl: any;
  let fn: any;
  beforeAll(() => {
    tpl = template(stack => reservation(stack));
    fn = only(tpl, FUNCTION).resource.Properties;
  });

  test('runs index.handler on Node.js 20 or newer as the provider role', () => {
    const role = only(tpl, ROLE);

    expect(fn.Runtime).toMatch(/^nodejs(2\d|[3-9]\d)$/);
    expect(fn.Handler).toBe('index.handler');
    expect(fn.Role).toEqual({ 'Fn::GetAtt': [role.id, 'Arn'] });
  });

  test('outlives the longest wait (3000 seconds) plus zone fallback and release', () => {
    expect(fn.Timeout).toBeGreaterThanOrEqual(3000 + 600);
  });

  test('drops a Create event older than ROS\'s longest wait (3000 + 300 seconds) instead of running it after ROS gave up', () => {
    const config = only(tpl, 'ALIYUN::FC3::AsyncInvokeConfig').resource.Properties;
    const fnId = only(tpl, FUNCTION).id;

    expect(config.FunctionName).toEqual({ 'Fn::GetAtt': [fnId, 'FunctionName'] });
    expect(config.MaxAsyncEventAgeInSeconds).toBe(3000 + 300);
  });

  test('carries its code inline as a zip, so the template deploys with no asset upload', () => {
    const zipFile: string = fn.Code.ZipFile;
    const zip = Buffer.from(zipFile, 'base64');

    expect(zipFile).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(zip.toString('base64')).toBe(zipFile);
    expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    expect(zip.length).toBeLessThanOrEqual(300 * 1024);
  });

  test('the template references no assets', () => {
    // The inline zip is left out: base64 could spell anything.
    const text = JSON.stringify(tpl, (key, value) => (key === 'ZipFile' ? undefined : value));

    expect(text).not.toMatch(/Assets/);
    expect(text).not.toMatch(/OssBucketName/);
  });
});

describe('attributes', () => {
  test.each([
    ['attrReservationId', 'ReservationId'],
    ['attrZoneId', 'ZoneId'],
    ['attrStatus', 'Status'],
    ['attrStartTime', 'StartTime'],
    ['attrEndTime', 'EndTime'],
  ] as const)('%s selects %s from the custom resource Outputs', (prop, key) => {
    const stack = newStack();
    const pool = reservation(stack);

    expect(ros.Stack.of(pool).resolve(pool[prop])).toEqual({ 'Fn::Select': [key, { 'Fn::GetAtt': ['GpuPool', 'Outputs'] }] });
  });

  test('attributes can be stack outputs', () => {
    const tpl = template(stack => {
      const pool = reservation(stack);
      new ros.RosOutput(stack, 'ReservationId', { value: pool.attrReservationId });
    });

    expect(tpl.Outputs.ReservationId.Value).toEqual({ 'Fn::Select': ['ReservationId', { 'Fn::GetAtt': ['GpuPool', 'Outputs'] }] });
  });
});

describe('validation at synth', () => {
  const longName = 'a'.repeat(129);
  const longDescription = 'd'.repeat(257);

  test.each<[string, Partial<AliCapacityReservationProps>, RegExp]>([
    ['instanceType gn7i', { instanceType: 'gn7i' }, /instanceType must be an ECS instance type .*got 'gn7i'/],
    ['two instance types', { instanceType: 'ecs.g6.large,ecs.g6.xlarge' },
      /instanceType must be one instance type .*got 'ecs\.g6\.large,ecs\.g6\.xlarge'/],
    ['instanceAmount 0', { instanceAmount: 0 }, /instanceAmount must be a whole number of at least 1, got 0$/],
    ['instanceAmount 1.5', { instanceAmount: 1.5 }, /instanceAmount must be a whole number of at least 1, got 1\.5$/],
    ['no zoneIds', { zoneIds: [] }, /zoneIds must name at least one zone/],
    ['zoneIds Hangzhou H', { zoneIds: ['Hangzhou H'] }, /zoneIds entries must be zone ids .*got 'Hangzhou H'/],
    ['a repeated zone', { zoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i', 'cn-hangzhou-h'] },
      /zoneIds must not repeat a zone, got cn-hangzhou-h twice/],
    ['name a (too short)', { name: 'a' }, /name must be 2-128 characters.*got 'a'$/],
    ['name 1abc (starts with a digit)', { name: '1abc' }, /name must .*start with a letter or Chinese character.*got '1abc'$/],
    ['name http://x', { name: 'http://x' }, /name must not start with http:\/\/ or https:\/\/, got 'http:\/\/x'/],
    ['a 129-character name', { name: longName }, new RegExp(`name must be 2-128 characters.*got '${longName}'$`)],
    ['name bad name!', { name: 'bad name!' }, /name must .*contain only letters, digits.*got 'bad name!'$/],
    ['description x (too short)', { description: 'x' }, /description must be 2-256 characters, got 1$/],
    ['description https://example.com', { description: 'https://example.com' },
      /description must not start with http:\/\/ or https:\/\/.*'https:\/\/example\.com'/],
    ['a 257-character description', { description: longDescription }, /description must be 2-256 characters, got 257$/],
    ['endTime 2030-01-01 00:00:00', { endTime: '2030-01-01 00:00:00' },
      /endTime must be UTC in the form yyyy-MM-ddTHH:mm:ssZ, got '2030-01-01 00:00:00'/],
    ['resourceGroupId group1', { resourceGroupId: 'group1' }, /resourceGroupId must be a resource group id .*got 'group1'/],
    ['waitTimeout 30', { waitTimeout: 30 }, /waitTimeout must be 60-3000 seconds, got 30$/],
    ['waitTimeout 4000', { waitTimeout: 4000 }, /waitTimeout must be 60-3000 seconds, got 4000$/],
  ])('fails on %s', (_, overrides, message) => {
    expect(() => reservation(newStack(), overrides)).toThrow(message);
  });

  test('fails on two reservations with one id under different parents, naming the first', () => {
    const stack = newStack();
    reservation(new ros.Construct(stack, 'TeamA'), {}, 'Pool');
    expect(() => reservation(new ros.Construct(stack, 'TeamB'), {}, 'Pool'))
      .toThrow(/^AliCapacityReservation id 'Pool' is already used in this stack at Test\/TeamA\/Pool; ROS names the resource by the bare construct id/);
  });

  test('the message names the construct path', () => {
    expect(() => reservation(newStack(), { instanceAmount: 0 })).toThrow(/^AliCapacityReservation Test\/GpuPool: /);
  });

  test('accepts an endTime that has passed: a deployed reservation that has ended must not block the next synth', () => {
    expect(parametersFor({ endTime: '2020-01-01T00:00:00Z' }).EndTime).toBe('2020-01-01T00:00:00Z');
  });

  test('accepts a Chinese name', () => {
    expect(parametersFor({ name: '容量预定' }).Name).toBe('容量预定');
  });

  test('accepts an endTime Date in the future', () => {
    const endTime = new Date(Date.now() + 30 * DAY_MS);

    expect(parametersFor({ endTime }).EndTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('tokens are left for the handler to check', () => {
    const tpl = template(stack => {
      const amount = new ros.RosParameter(stack, 'Amount', { type: ros.RosParameterType.NUMBER });
      reservation(stack, { instanceAmount: amount.valueAsNumber });
    });

    expect(tpl.Resources.GpuPool.Properties.Parameters.InstanceAmount).toEqual({ Ref: 'Amount' });
  });
});

describe('tag validation', () => {
  const longKey = 'k'.repeat(129);

  test.each<[string, Record<string, string>, RegExp]>([
    ['a key starting with aliyun', { 'aliyun-x': 'v' }, /tag key must not start with 'aliyun' or 'acs:', got 'aliyun-x'/],
    ['a key starting with acs:', { 'acs:x': 'v' }, /tag key must not start with 'aliyun' or 'acs:', got 'acs:x'/],
    ['a key containing http://', { 'see-http://x': 'v' }, /tag key must not contain http:\/\/ or https:\/\/, got 'see-http:\/\/x'/],
    ['a 129-character key', { [longKey]: 'v' }, /tag key must be 1-128 characters, got 'k{40}' \(129\)/],
    ['a value starting with acs:', { team: 'acs:x' }, /tag value for 'team' must not start with 'acs:', got 'acs:x'/],
    ['a 129-character value', { team: 'v'.repeat(129) }, /tag value for 'team' must be at most 128 characters, got 129/],
    ['a key with the library prefix', { 'cdk-capacity-reservations:x': 'v' },
      /tag key must not start with 'cdk-capacity-reservations:' \(written by this library\), got 'cdk-capacity-reservations:x'/],
    ['17 tags', manyTags(17), /at most 16 tags \(ECS allows 20; this library writes 2 and keeps 2 free for answer markers\), got 17/],
  ])('fails on %s', (_, tags, message) => {
    expect(() => reservation(newStack(), { tags })).toThrow(message);
  });

  test('accepts 16 tags', () => {
    const tags = parametersFor({ tags: manyTags(16) }).Tags as unknown[];

    expect(tags).toHaveLength(16);
    expect(tags).toContainEqual({ Key: 'key15', Value: 'value15' });
  });
});

describe('example', () => {
  /** The example is what users copy: it must synthesize and wire the reservation the way the README says. */
  test('the Alibaba Cloud example reserves one GPU pool, falling back from zone h to zone i', () => {
    const stack = new GpuPoolStack(newApp(), 'GpuPoolStack');
    const tpl = synth(stack);

    expect(Object.keys(resourcesOfType(tpl, RESERVATION))).toEqual(['GpuPool']);
    expect(tpl.Resources.GpuPool.Properties.Parameters).toMatchObject({
      InstanceType: 'ecs.gn7i-c8g1.2xlarge',
      ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'],
    });
    expect(Object.keys(tpl.Outputs).sort()).toEqual(['ReservationId', 'Status', 'ZoneId']);
  });
});
