// Call figures: the cloud API calls of one clean lifecycle, phase by phase, driven as the engines drive
// it (the same handler bundles, events and simulated 30 s polls), against the budgets for a clean Create.
import { randomUUID } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import * as path from 'path';
import {
  Ec2Call, EcsCall, findResources, quietly, rehearseAws, SageMakerCall, withAliHandler, withAwsHandler, withTrainingPlanHandler, writeAwsTemplate, writeRosTemplate,
} from '../../lib/local';
import { budgets, formatCounts, groupByAction, Json, section, table, tmp, yesNo } from './report';

/**
 * Drives one clean AWS lifecycle phase by phase, as rehearseAws does (same handler bundle, events and
 * simulated 30 s polls), and cuts the emulator's call log at each phase boundary.
 */
async function awsPhases(templateFile: string): Promise<Json> {
  const block = findResources(templateFile, 'Custom::CapacityBlockPurchase')[0];
  return withAwsHandler({ region: 'us-east-1' }, (handler, emulator) => quietly(async () => {
    const phases: Array<{ phase: string; calls: Ec2Call[]; invocations: number }> = [];
    let mark = 0;
    const cut = (phase: string, invocations: number) => {
      phases.push({ phase, calls: emulator.calls.slice(mark), invocations });
      mark = emulator.calls.length;
    };
    const base = {
      StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/bench/${randomUUID()}`,
      LogicalResourceId: block.logicalId, ResourceType: 'Custom::CapacityBlockPurchase',
      ResponseURL: 'https://cloudformation-custom-resource-response.invalid/presigned',
    };
    const properties = Object.fromEntries(Object.entries(block.properties).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
    const wait = async (event: Json): Promise<number> => {
      for (let poll = 1; poll <= 40; poll++) {
        emulator.clock.advance(30_000);
        if ((await handler.isComplete(event)).IsComplete) return poll;
      }
      throw new Error('isComplete did not finish within 40 polls');
    };
    const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: properties };
    const created = await handler.onEvent(create);
    cut('Create: onEvent', 1);
    cut('Create: isComplete polls', await wait({ ...create, PhysicalResourceId: created.PhysicalResourceId, Data: created.Data }));
    const updatedProps = { ...properties, Tags: [...(properties.Tags ?? []), { Key: 'rehearsal', Value: 'updated' }] };
    const update = { ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps, OldResourceProperties: properties };
    const updated = await handler.onEvent(update);
    cut('Update: onEvent', 1);
    cut('Update: isComplete polls', await wait({ ...update, PhysicalResourceId: updated.PhysicalResourceId, Data: updated.Data }));
    await handler.onEvent({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps });
    cut('Delete: onEvent', 1);
    return { phases, purchases: emulator.purchases.length };
  }));
}

/**
 * One clean TrainingPlanPurchase Create, driven as the framework drives it (onEvent, then isComplete
 * every 30 simulated seconds): SageMaker calls by action. The plan name is read once (a name already
 * bought is adopted, never bought again), the offerings searched once, the plan created once.
 */
async function trainingPlanCreate(): Promise<{ calls: SageMakerCall[]; polls: number }> {
  return withTrainingPlanHandler({ pendingMs: [60_000, 60_000] }, (handler, emulator) => quietly(async () => {
    const create = {
      RequestType: 'Create', RequestId: randomUUID(), StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/bench/${randomUUID()}`, LogicalResourceId: 'Plan',
      ResourceType: 'Custom::TrainingPlanPurchase', ResponseURL: 'https://cloudformation-custom-resource-response.invalid/presigned',
      ResourceProperties: { InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['training-job'], MaxUpfrontFee: '8000', TrainingPlanName: 'bench-plan' },
    };
    const created = await handler.onEvent(create);
    for (let poll = 1; poll <= 40; poll++) {
      emulator.clock.advance(30_000);
      if ((await handler.isComplete({ ...create, PhysicalResourceId: created.PhysicalResourceId, Data: created.Data })).IsComplete) return { calls: emulator.calls, polls: poll };
    }
    throw new Error('isComplete did not finish within 40 polls');
  }));
}

/** Drives one clean Alibaba lifecycle phase by phase, as rehearseAlicloud does. */
async function aliPhases(templateFile: string, stock: Record<string, number>): Promise<Json> {
  const resource = findResources(templateFile, 'ALIYUN::ROS::CustomResource', p => Array.isArray(p.Parameters?.ZoneIds))[0];
  return withAliHandler({ stock }, (invoke, emulator, responseUrl) => quietly(async () => {
    const phases: Array<{ phase: string; calls: EcsCall[]; status: string }> = [];
    let mark = 0;
    const cut = (phase: string, answer: Json) => {
      phases.push({ phase, calls: emulator.calls.slice(mark), status: answer.Status });
      mark = emulator.calls.length;
    };
    const base = { ResponseURL: responseUrl, StackId: randomUUID(), LogicalResourceId: resource.logicalId, RegionId: 'cn-hangzhou', ResourceType: 'ALIYUN::ROS::CustomResource' };
    const created = await invoke({ ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: resource.properties });
    cut('Create', created);
    const parameters = resource.properties.Parameters as Json;
    const updatedProps = { ...resource.properties, Parameters: { ...parameters, InstanceAmount: Number(parameters.InstanceAmount) + 1 } };
    cut('Update (InstanceAmount + 1)', await invoke({ ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps, OldResourceProperties: resource.properties }));
    cut('Delete', await invoke({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps }));
    return { phases };
  }));
}

/** In the public rehearsal's log: how many calls precede the first poll (DescribeCapacityReservations by id). */
async function createOnEventCallsInRehearsal(awsFile: string): Promise<number> {
  const calls = (await rehearseAws(awsFile, { redeliver: false })).emulator.calls;
  const firstPoll = calls.findIndex(c => c.action === 'DescribeCapacityReservations' && c.params['CapacityReservationId.1'] !== undefined);
  return firstPoll < 0 ? calls.length : firstPoll;
}

export async function benchCalls(): Promise<Json> {
  section('5. API calls of one clean lifecycle, phase by phase (redeliver: false, no faults)');
  const dir = tmp('calls');
  try {
    const awsFile = writeAwsTemplate({}, mkdtempSync(path.join(dir, 'aws-')));
    const rosOneZone = writeRosTemplate({ ZoneIds: ['cn-hangzhou-h'] }, mkdtempSync(path.join(dir, 'ros-')));

    // Per phase: the same lifecycle driven step by step, cutting the call log at each boundary.
    const aws = await awsPhases(awsFile);
    const ali = await aliPhases(rosOneZone, { 'cn-hangzhou-h': 64 });
    const phaseRows: Array<Record<string, unknown>> = [
      ...aws.phases.map((p: Json) => ({ 'cloud': 'AWS (EC2)', 'phase': p.phase, 'invocations': p.invocations, 'calls': p.calls.length, 'calls by action': formatCounts(groupByAction(p.calls)) })),
      ...ali.phases.map((p: Json) => ({ 'cloud': 'Alibaba (ECS)', 'phase': p.phase, 'invocations': 1, 'calls': p.calls.length, 'calls by action': formatCounts(groupByAction(p.calls)) })),
    ];

    // The budget: a clean Create = offering pages + 1 lookup + 1 purchase + polls, nothing else.
    const createCalls: Ec2Call[] = [...aws.phases[0].calls, ...aws.phases[1].calls];
    const polls: number = aws.phases[1].invocations;
    const pages = createCalls.filter(c => c.action === 'DescribeCapacityBlockOfferings');
    const searchPasses = pages.filter(c => c.params.NextToken === undefined).length;
    const lookups = createCalls.filter(c => c.action === 'DescribeCapacityReservations' && c.params['CapacityReservationId.1'] === undefined).length;
    const purchases = createCalls.filter(c => c.action === 'PurchaseCapacityBlock').length;
    const pollCalls = createCalls.filter(c => c.action === 'DescribeCapacityReservations' && c.params['CapacityReservationId.1'] !== undefined).length;
    const others = createCalls.length - pages.length - lookups - purchases - pollCalls;
    const createMeets = searchPasses === 1 && lookups === 1 && purchases === 1 && pollCalls === polls && others === 0;
    const createMeasured = `${createCalls.length} = ${pages.length} page(s) + ${lookups} lookup + ${purchases} purchase + ${pollCalls} poll(s)${others ? ` + ${others} other` : ''}`;
    phaseRows.push({ 'cloud': 'AWS (EC2)', 'phase': 'clean Create (onEvent + polls)', 'invocations': 1 + polls, 'calls': createCalls.length, 'calls by action': createMeasured, 'budget': 'pages + 1 lookup + 1 purchase + polls', 'meets?': yesNo(createMeets) });
    console.log(table(phaseRows, ['cloud', 'phase', 'invocations', 'calls', 'calls by action', 'budget', 'meets?']));
    const heuristic = await createOnEventCallsInRehearsal(awsFile);
    console.log(`\ncross-check: in the rehearseAws log, ${heuristic} call(s) precede the first DescribeCapacityReservations by CapacityReservationId.1 (driven Create onEvent: ${aws.phases[0].calls.length})`);
    budgets.push({ figure: 'EC2 calls for a clean Create', measured: createMeasured, budget: 'offering pages + 1 lookup + 1 purchase + polls', meets: createMeets });
    const plan = await trainingPlanCreate();
    const planCalls = groupByAction(plan.calls);
    const planOthers = plan.calls.length - (planCalls.SearchTrainingPlanOfferings ?? 0) - (planCalls.CreateTrainingPlan ?? 0) - (planCalls.DescribeTrainingPlan ?? 0);
    const planMeets = planCalls.SearchTrainingPlanOfferings === 1 && planCalls.CreateTrainingPlan === 1 && planCalls.DescribeTrainingPlan === 1 + plan.polls && planOthers === 0;
    const planMeasured = `${plan.calls.length} = 1 name read + ${planCalls.SearchTrainingPlanOfferings ?? 0} search + ${planCalls.CreateTrainingPlan ?? 0} create + ${plan.polls} poll(s)${planOthers ? ` + ${planOthers} other` : ''}`;
    console.log(table([{ 'cloud': 'AWS (SageMaker)', 'phase': 'clean training plan Create (onEvent + polls)', 'calls': plan.calls.length, 'calls by action': planMeasured, 'budget': '1 name read + 1 search + 1 create + polls', 'meets?': yesNo(planMeets) }],
      ['cloud', 'phase', 'calls', 'calls by action', 'budget', 'meets?']));
    budgets.push({ figure: 'SageMaker calls for a clean training plan Create', measured: planMeasured, budget: '1 name read + 1 search + 1 create + polls', meets: planMeets });
    console.log('');


    return {
      phases: {
        aws: aws.phases.map((p: Json) => ({ phase: p.phase, invocations: p.invocations, calls: p.calls.length, callsByAction: groupByAction(p.calls) })),
        alicloud: ali.phases.map((p: Json) => ({ phase: p.phase, status: p.status, calls: p.calls.length, callsByAction: groupByAction(p.calls) })),
      },
      cleanCreate: { calls: createCalls.length, offeringPages: pages.length, searchPasses, lookups, purchases, polls, pollCalls, others, meets: createMeets },
      cleanTrainingPlanCreate: { calls: plan.calls.length, callsByAction: planCalls, polls: plan.polls, meets: planMeets },
      rehearseAwsCallsBeforeFirstPoll: heuristic,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
