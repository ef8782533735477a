import { randomUUID } from 'crypto';
import { format, inspect } from 'util';
import { Ec2Emulator, EcsEmulator, rehearseAlicloud, rehearseAws, SageMakerEmulator, SimulatedClock, withAliHandler, withAwsHandler, withTrainingPlanHandler } from '../../lib/local';
import { RawRequest } from '../../lib/local/http-server';
import { awsTemplate, rosTemplate } from '../local/templates';

/**
 * The handlers' logs (CloudWatch, SLS) must never hold a credential: not the ResponseURL (a presigned
 * URL is a credential), not an access key secret or security token, not an Authorization header.
 * These tests run the real bundles through the real SDK clients against the emulators and capture
 * everything written to the console and to stdout/stderr.
 */

type Json = Record<string, any>;

// Distinctive values, so a leak cannot hide behind a common word.
const SIG = 'SECRETSIG';
const AWS_KEY_ID = 'AKIALOGHYGIENE000001';
const AWS_SECRET = 'SECRETKEY-aws-0123456789abcdef';
const AWS_TOKEN = 'SECRETTOKEN-aws-sts-session';
const ALI_KEY_ID = 'LTAIloghygiene0001';
const ALI_SECRET = 'SECRETKEY-ali-0123456789abcdef';
const AWS_RESPONSE_URL = `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/Hygiene/id%7CBlock%7Creq?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAFRAMEWORK&X-Amz-Signature=${SIG}`;

interface Capture {
  /** Every line written to the console or to stdout/stderr while capturing. */
  readonly lines: string[];
  restore(): void;
}

/**
 * Captures console.* and process.stdout/stderr.write. The rehearsal silences the handlers by
 * assigning `console.log = () => undefined` (`quietly`); the accessors below keep recording through
 * such an assignment, so the handlers' lines are captured even then.
 */
function captureOutput(): Capture {
  const lines: string[] = [];
  const record = (...args: unknown[]) => { lines.push(format(...args)); };
  const restorers: Array<() => void> = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const own = Object.getOwnPropertyDescriptor(console, method);
    Object.defineProperty(console, method, { configurable: true, enumerable: true, get: () => record, set: () => undefined });
    restorers.push(() => {
      if (own) Object.defineProperty(console, method, own);
      else delete (console as unknown as Json)[method];
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = ((chunk: unknown) => { lines.push(String(chunk)); return true; }) as typeof stream.write;
    restorers.push(() => { stream.write = write; });
  }
  return { lines, restore: () => restorers.reverse().forEach(r => r()) };
}

async function captured<T>(work: (lines: string[]) => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const capture = captureOutput();
  try {
    return { result: await work(capture.lines), lines: capture.lines };
  } finally {
    capture.restore();
  }
}

/** Records the credential-bearing headers every request to an emulator carried. */
function recordCredentialHeaders(emulatorClass: typeof Ec2Emulator | typeof EcsEmulator | typeof SageMakerEmulator): { values: string[]; restore(): void } {
  const values: string[] = [];
  const prototype = emulatorClass.prototype as unknown as { handle(request: RawRequest): Promise<unknown> };
  const handle = prototype.handle;
  prototype.handle = function (this: unknown, request: RawRequest) {
    for (const [name, value] of Object.entries(request.headers)) {
      if (/authorization|security-token/i.test(name) && value !== undefined) values.push(String(value));
    }
    return handle.call(this, request);
  };
  return { values, restore: () => { prototype.handle = handle; } };
}

/** Lines that contain any forbidden value, with the value found: the test's failure message. */
function leaks(lines: string[], forbidden: string[]): string[] {
  const patterns = [...new Set(forbidden.filter(f => f.length >= 6))];
  return lines.flatMap(line => patterns.filter(p => line.includes(p)).map(p => `${JSON.stringify(p)} in: ${line.slice(0, 400)}`));
}

/** Header-shaped secrets, whatever their value: a signed Authorization header or a signature. */
const SIGNATURE_SHAPES = [/AWS4-HMAC-SHA256 Credential=/, /ACS3-HMAC-SHA256 Credential=/, /Signature=[0-9a-f]{16,}/i, /authorization["']?\s*[:=]/i];
function signatureShapes(lines: string[]): string[] {
  return lines.flatMap(line => SIGNATURE_SHAPES.filter(re => re.test(line)).map(re => `${re} in: ${line.slice(0, 400)}`));
}

/** Drives the bundled Lambda handler as the Provider framework would, collecting what it throws. */
async function awsLifecycle(handler: Json, emulator: { clock: SimulatedClock }, properties: Json, thrown: string[], resourceType = 'Custom::CapacityBlockPurchase'): Promise<void> {
  const base = {
    StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/Hygiene/${randomUUID()}`,
    LogicalResourceId: 'Block', ResourceType: resourceType, ResponseURL: AWS_RESPONSE_URL,
  };
  const props = { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent', ...properties };
  const call = async (fn: 'onEvent' | 'isComplete', event: Json): Promise<Json | undefined> => {
    try {
      return await handler[fn](event);
    } catch (error) {
      // Lambda logs an error thrown by the handler, and the framework makes its message the Reason.
      thrown.push(inspect(error, { depth: 5 }));
      return undefined;
    }
  };
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: props };
  const created = await call('onEvent', create);
  await call('onEvent', create); // redelivered
  if (!created) return;
  for (let poll = 0; poll < 10; poll++) {
    emulator.clock.advance(30_000);
    const done = await call('isComplete', { ...create, PhysicalResourceId: created.PhysicalResourceId, Data: created.Data });
    if (!done || done.IsComplete) break;
  }
  const updated = { ...props, Tags: [{ Key: 'team', Value: 'ml' }] };
  await call('onEvent', { ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updated, OldResourceProperties: props });
  await call('onEvent', { ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updated });
}

const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '6500', AvailabilityZone: 'us-east-1a' };

describe('AWS Lambda handler logs', () => {
  // First in the file: the bundle's EC2 client resolves its credentials once per module load.
  test('hold no ResponseURL, secret, session token or Authorization header, including on failures and faults', async () => {
    const headers = recordCredentialHeaders(Ec2Emulator);
    const thrown: string[] = [];
    let lines: string[];
    try {
      ({ lines } = await captured(() => withAwsHandler({ faults: { seed: 4, throttle: 0.2, serverError: 0.1, lostAnswer: 0.5, lostAnswerActions: ['PurchaseCapacityBlock'] } }, async (handler, emulator) => {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: AWS_KEY_ID, AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_SESSION_TOKEN: AWS_TOKEN });
        await awsLifecycle(handler as unknown as Json, emulator, BLOCK, thrown);
        await awsLifecycle(handler as unknown as Json, emulator, { ...BLOCK, MaxUpfrontFee: '10' }, thrown); // refused: above the ceiling
        await awsLifecycle(handler as unknown as Json, emulator, { ...BLOCK, InstanceCount: 'four' }, thrown); // invalid input
      })));
    } finally {
      headers.restore();
    }

    // The capture is real: the handler's own JSON lines are in it, and the secrets were on the wire.
    expect(lines.some(l => l.includes('"message":"bought Capacity Block"'))).toBe(true);
    expect(lines.some(l => l.includes('"message":"FAILED"'))).toBe(true);
    expect(thrown.length).toBeGreaterThanOrEqual(2);
    expect(headers.values.some(v => v.includes(`Credential=${AWS_KEY_ID}/`))).toBe(true);
    expect(headers.values).toContain(AWS_TOKEN);

    const everything = [...lines, ...thrown];
    expect(leaks(everything, [AWS_RESPONSE_URL, SIG, AWS_SECRET, AWS_TOKEN, AWS_KEY_ID, ...headers.values])).toEqual([]);
    expect(signatureShapes(everything)).toEqual([]);
  });

  test('the training plan handler\'s hold none either, including on failures and faults', async () => {
    const headers = recordCredentialHeaders(SageMakerEmulator);
    const thrown: string[] = [];
    const plan = { InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['training-job'], MaxUpfrontFee: '8000', TrainingPlanName: 'hygiene' };
    let lines: string[];
    try {
      ({ lines } = await captured(() => withTrainingPlanHandler({ faults: { seed: 4, throttle: 0.2, serverError: 0.1, lostAnswer: 0.5, lostAnswerActions: ['CreateTrainingPlan'] } }, async (handler, emulator) => {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: AWS_KEY_ID, AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_SESSION_TOKEN: AWS_TOKEN });
        await awsLifecycle(handler as unknown as Json, emulator, plan, thrown, 'Custom::TrainingPlanPurchase');
        await awsLifecycle(handler as unknown as Json, emulator, { ...plan, MaxUpfrontFee: '10', TrainingPlanName: 'hygiene-2' }, thrown, 'Custom::TrainingPlanPurchase'); // above the ceiling
        await awsLifecycle(handler as unknown as Json, emulator, { ...plan, InstanceCount: 'four' }, thrown, 'Custom::TrainingPlanPurchase'); // invalid input
      })));
    } finally {
      headers.restore();
    }

    expect(lines.some(l => l.includes('"message":"bought training plan"') || l.includes('already this resource'))).toBe(true);
    expect(lines.some(l => l.includes('"message":"FAILED"'))).toBe(true);
    expect(headers.values.some(v => v.includes(`Credential=${AWS_KEY_ID}/`))).toBe(true);
    const everything = [...lines, ...thrown];
    expect(leaks(everything, [AWS_RESPONSE_URL, SIG, AWS_SECRET, AWS_TOKEN, AWS_KEY_ID, ...headers.values])).toEqual([]);
    expect(signatureShapes(everything)).toEqual([]);
  });

  test('rehearseAws: the handler lines logged while the rehearsal silences console.log are captured, and clean', async () => {
    const progress: string[] = [];
    const { result, lines } = await captured(() => rehearseAws(awsTemplate({}), { progress: l => progress.push(l) }));

    expect(result.reports[0].ok).toBe(true);
    expect(lines.some(l => l.includes('"message":"bought Capacity Block"'))).toBe(true);
    const everything = [...lines, ...progress];
    expect(leaks(everything, ['cloudformation-custom-resource-response.invalid', 'AKIDLOCALREHEARSAL', AWS_KEY_ID, AWS_SECRET, AWS_TOKEN, SIG])).toEqual([]);
    expect(signatureShapes(everything)).toEqual([]);
  });
});

describe('Alibaba FC handler logs', () => {
  const parameters = { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'] };

  test('hold no ResponseURL, AccessKey secret, security token or Authorization header, including on failures and faults', async () => {
    const headers = recordCredentialHeaders(EcsEmulator);
    const thrown: string[] = [];
    const answers: Json[] = [];
    let lines: string[];
    try {
      ({ lines } = await captured(() => withAliHandler({
        accessKeyId: ALI_KEY_ID, accessKeySecret: ALI_SECRET,
        stock: { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 64 },
        faults: { seed: 9, throttle: 0.2, serverError: 0.1, lostAnswer: 0.3 },
      }, async (invoke, _emulator, responseUrl) => {
        const url = responseUrl.replace('Signature=local', `Signature=${SIG}`);
        expect(url).toContain(SIG);
        const send = async (event: Json) => {
          try {
            answers.push(await invoke(event));
          } catch (error) {
            thrown.push(inspect(error, { depth: 5 })); // FC logs an error the handler throws
          }
        };
        const base = { ResponseURL: url, StackId: randomUUID(), LogicalResourceId: 'Pool', RegionId: 'cn-hangzhou', ResourceType: 'ALIYUN::ROS::CustomResource' };
        const props = { Timeout: 900, Parameters: parameters };
        const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: props };
        await send(create);
        await send(create); // redelivered
        const physicalId = answers[0]?.PhysicalResourceId;
        const bigger = { ...props, Parameters: { ...parameters, InstanceAmount: 5 } };
        await send({ ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: bigger, OldResourceProperties: props });
        await send({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: bigger });
        // Failures: a zone that does not exist, and bad input.
        await send({ ...base, LogicalResourceId: 'Nowhere', RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: { ...props, Parameters: { ...parameters, ZoneIds: ['cn-hangzhou-z'] } } });
        await send({ ...base, LogicalResourceId: 'Bad', RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: { ...props, Parameters: { ...parameters, InstanceAmount: -1, Name: `https://example.com/?Signature=${SIG}` } } });
        // ROS unreachable: the handler throws so FC retries; what it throws must be clean too.
        await send({ ...base, ResponseURL: `http://127.0.0.1:9/ros-response?Signature=${SIG}`, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: 'not-created-0', ResourceProperties: props });
      }, 5)));
    } finally {
      headers.restore();
    }

    expect(lines.some(l => l.includes('"message":"created capacity reservation"'))).toBe(true);
    expect(lines.some(l => l.includes('"message":"FAILED"'))).toBe(true);
    expect(answers.some(a => a.Status === 'FAILED')).toBe(true);
    expect(thrown.length).toBeGreaterThanOrEqual(1);
    expect(headers.values.some(v => v.includes(`Credential=${ALI_KEY_ID}`))).toBe(true);

    const reasons = answers.map(a => String(a.Reason ?? ''));
    const everything = [...lines, ...thrown, ...reasons];
    expect(leaks(everything, [SIG, ALI_SECRET, ALI_KEY_ID, '/ros-response', ...headers.values])).toEqual([]);
    expect(signatureShapes(everything)).toEqual([]);
  });

  test('rehearseAlicloud: the handler lines logged while the rehearsal silences console.log are captured, and clean', async () => {
    const headers = recordCredentialHeaders(EcsEmulator);
    const progress: string[] = [];
    let result: Awaited<ReturnType<typeof rehearseAlicloud>>;
    let lines: string[];
    try {
      ({ result, lines } = await captured(() => rehearseAlicloud(rosTemplate(), { progress: l => progress.push(l) })));
    } finally {
      headers.restore();
    }

    expect(result.reports[0].ok).toBe(true);
    expect(lines.some(l => l.includes('"message":"answered ROS"'))).toBe(true);
    const everything = [...lines, ...progress];
    expect(leaks(everything, ['/ros-response', 'Signature=local', 'local-sts-token', result.emulator.accessKeySecret, ...headers.values])).toEqual([]);
    expect(signatureShapes(everything)).toEqual([]);
  });
});
