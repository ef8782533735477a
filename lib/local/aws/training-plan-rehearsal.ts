import { readFileSync } from 'fs';
import * as path from 'path';
import { requireAwsRehearsalModules } from '../modules';
import { ASSETS, findResources, Json, progressOf, quietly, RehearsalOptions } from '../resources';
import { CloudFormationStack } from './cloudformation';
import { ProviderFramework, timingsFromTemplate } from './provider-framework';
import { asCloudFormationDelivers, AwsHandler, AwsRehearsalSeams, withBundledHandler, withProviderFramework } from './rehearsal';
import { EmulatedPlanOffering, SageMakerEmulator, SageMakerEmulatorOptions } from './sagemaker-emulator';

const TRAINING_PLAN_BUNDLE = path.join(ASSETS, 'training-plan-handler', 'index.js');
export const TRAINING_PLAN_TYPE = 'Custom::TrainingPlanPurchase';

/** The bundled training-plan handler: the same entry points and seams as the Capacity Block bundle. */
export type TrainingPlanHandler = AwsHandler;

/** The bundle's SageMaker clients resolve their endpoint once per module load: every rehearsal in a process serves on one port. */
let sageMakerPort: number | undefined;

/** The bundled training-plan handler wired to a fresh SageMaker emulator and claims table, for the length of `work`. */
export async function withTrainingPlanHandler<T>(options: SageMakerEmulatorOptions, work: (handler: TrainingPlanHandler, emulator: SageMakerEmulator, seams: AwsRehearsalSeams) => Promise<T>): Promise<T> {
  requireAwsRehearsalModules('the training plan rehearsal');
  const region = options.region ?? 'us-east-1';
  const emulator = new SageMakerEmulator({ port: sageMakerPort, ...options, region });
  sageMakerPort = Number(new URL(await emulator.start()).port);
  return withBundledHandler<TrainingPlanHandler, SageMakerEmulator, T>(TRAINING_PLAN_BUNDLE, emulator, 'AWS_ENDPOINT_URL_SAGEMAKER', region, work);
}

/** What happened to one training plan in a rehearsal. */
export interface TrainingPlanReport {
  readonly logicalId: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly request: { readonly maxUpfrontFee: number; readonly selection: string; readonly shape: string };
  readonly trainingPlanArn?: string;
  readonly trainingPlanName?: string;
  readonly status?: string;
  readonly upfrontFee?: string;
  readonly chosenOfferingId?: string;
  readonly offeringsConsidered: EmulatedPlanOffering[];
  /** Plans created (each one paid for). */
  readonly purchases: number;
  readonly afterDelete?: string;
  readonly sageMakerCalls: number;
}

/**
 * Runs every TrainingPlanPurchase of a synthesized template through the bundled handler inside the
 * real Provider framework runtime, against the SageMaker emulator and a local DynamoDB: Create
 * (delivered twice at the same time), the waiter's polls, an Update (a tag) and Delete, in
 * CloudFormation's sequence.
 */
export async function rehearseTrainingPlans(templatePath: string, options: RehearsalOptions & { readonly sageMaker?: SageMakerEmulatorOptions } = {}): Promise<{ reports: TrainingPlanReport[]; emulator: SageMakerEmulator }> {
  const say = progressOf(options);
  const plans = findResources(templatePath, TRAINING_PLAN_TYPE);
  const template = JSON.parse(readFileSync(templatePath, 'utf8'));
  return withTrainingPlanHandler({ ...options.sageMaker }, async (handler, emulator) => {
    const reports: TrainingPlanReport[] = [];
    for (const plan of plans) {
      const timings = timingsFromTemplate(template, plan.logicalId, handler.providerTimings);
      reports.push(await quietly(() => withProviderFramework(handler, emulator, timings, framework => rehearsePlan(framework, emulator, plan, options, say))));
    }
    return { reports, emulator };
  });
}

async function rehearsePlan(framework: ProviderFramework, emulator: SageMakerEmulator, resource: { logicalId: string; properties: Json }, options: RehearsalOptions, say: (line: string) => void): Promise<TrainingPlanReport> {
  const callsBefore = emulator.calls.length;
  const purchasesBefore = emulator.purchases.length;
  const properties = asCloudFormationDelivers(resource.properties);
  const shape = properties.UltraServerType ? `${properties.UltraServerCount} x UltraServer ${properties.UltraServerType}` : `${properties.InstanceCount} x ${properties.InstanceType}`;
  const request = { maxUpfrontFee: Number(properties.MaxUpfrontFee), selection: String(properties.Selection ?? 'CHEAPEST'), shape };
  const seen = () => [...emulator.offeringsSeen.values()].filter(o => (properties.UltraServerType ? o.ultraServerType === properties.UltraServerType : o.instanceType === properties.InstanceType && o.instanceCount === Number(properties.InstanceCount)));
  const finish = (outcome: Pick<TrainingPlanReport, 'ok'> & Partial<TrainingPlanReport>): TrainingPlanReport => ({
    ...outcome, logicalId: resource.logicalId, request, offeringsConsidered: seen(),
    purchases: emulator.purchases.length - purchasesBefore, sageMakerCalls: emulator.calls.length - callsBefore,
  });
  const redeliver = options.redeliver ?? true;
  const stack = new CloudFormationStack(framework, { stackName: 'Rehearsal', logicalId: resource.logicalId, region: 'us-east-1', resourceType: TRAINING_PLAN_TYPE }, () => (redeliver ? 'twice-concurrent' : 'once'));
  const last = () => stack.exchanges[stack.exchanges.length - 1].response;
  const reason = () => (last().Reason ?? '').split('\n')[0];

  say(`  [sagemaker] ${resource.logicalId}: Create training plan ${shape} for ${properties.DurationHours} h (${(properties.TargetResources ?? []).join(', ')}), ceiling ${properties.MaxUpfrontFee} ${properties.CurrencyCode ?? 'USD'}${redeliver ? ', delivered twice at the same time' : ''}`);
  if (await stack.deploy(properties) !== 'CREATE_COMPLETE') {
    const failed = stack.exchanges.find(e => e.requestType === 'Create')!.response.Reason ?? '';
    say(`  [sagemaker] ${resource.logicalId}: Create FAILED: ${failed}`);
    return finish({ ok: false, error: failed });
  }
  const data = stack.exchanges[0].response.Data ?? {};
  const arn = stack.resource!.physicalResourceId;
  say(`  [sagemaker] ${resource.logicalId}: ${data.Status === 'preview' ? 'previewed' : 'bought'} ${data.TrainingPlanName || arn} (${data.OfferingId}, ${data.UpfrontFee} ${data.CurrencyCode}, ${data.AvailabilityZone}), status ${data.Status}; plans bought: ${emulator.purchases.length - purchasesBefore}`);
  const updated = { ...properties, Tags: [...(properties.Tags ?? []), { Key: 'rehearsal', Value: 'updated' }] };
  if (await stack.deploy(updated) !== 'UPDATE_COMPLETE') {
    say(`  [sagemaker] ${resource.logicalId}: Update FAILED: ${reason()}`);
    return finish({ ok: false, error: `update: ${reason()}`, trainingPlanArn: arn });
  }
  say(`  [sagemaker] ${resource.logicalId}: Update (a tag) in place -> ${stack.resource!.physicalResourceId === arn ? 'same plan' : stack.resource!.physicalResourceId}`);
  await stack.destroy();
  const left = [...emulator.plans.values()].find(p => p.arn === arn);
  const afterDelete = left ? `left to run until ${emulator.endOf(left).toISOString()} (a training plan cannot be cancelled)` : 'nothing was bought';
  say(`  [sagemaker] ${resource.logicalId}: Delete -> ${afterDelete}`);
  return finish({
    ok: stack.status === 'DELETE_COMPLETE', trainingPlanArn: arn, trainingPlanName: String(data.TrainingPlanName ?? ''), status: String(data.Status ?? ''),
    upfrontFee: `${data.UpfrontFee} ${data.CurrencyCode}`, chosenOfferingId: String(data.OfferingId ?? ''), afterDelete,
  });
}
