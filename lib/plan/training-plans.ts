import { DescribeTrainingPlanCommand, ListTagsCommand, SageMakerClient, SearchTrainingPlanOfferingsCommand } from '@aws-sdk/client-sagemaker';
import { money } from '../aws/handler/format';
import { judgePlanOfferings, PlanOffering, planOfferingsQuery, toPlanOffering } from '../aws/handler/training-plan/offerings';
import { describePlanShape, parseTrainingPlanRequest, TrainingPlanRequest } from '../aws/handler/training-plan/request';
import { resourceKeys } from '../aws/handler/keys';
import { TrainingPlanWireProperties } from '../aws/training-plan-wire';
import { OWNER_TAG } from '../aws/wire';
import { asStrings, PlanCloudError } from './aws';
import { FoundReservation, resolveTokens } from './templates';

/** What one TrainingPlanPurchase would do if it were deployed now. */
export interface TrainingPlanPlan {
  readonly cloud: 'sagemaker';
  readonly stack: string;
  readonly logicalId: string;
  readonly region: string;
  /** would-buy, preview and owned succeed (owned: the stack already holds the plan under its name, and adopts it); the rest would fail. */
  readonly verdict: 'would-buy' | 'preview' | 'owned' | 'no-acceptable-offering' | 'invalid' | 'unresolved';
  readonly reason?: string;
  readonly shape?: string;
  readonly maxUpfrontFee?: string;
  /** The ceiling (maxUpfrontFee) as a number, with its currency: what the worst case adds up. */
  readonly ceiling?: { readonly amount: number; readonly currencyCode: string };
  readonly trainingPlanName?: string;
  readonly offerings: Array<{ readonly offering: PlanOffering; readonly verdict: string }>;
  readonly chosen?: { readonly offeringId: string; readonly availabilityZone: string; readonly startTime: string; readonly endTime: string; readonly upfrontFee: number; readonly currencyCode: string; readonly perInstanceHour: number };
}

export interface TrainingPlanPlanOptions {
  readonly now: Date;
  readonly region?: string;
  readonly parameters: Record<string, string>;
  readonly progress: (line: string) => void;
  /** Injected for tests: a client per region. @default the SDK's default credential chain */
  readonly client?: (region: string | undefined) => SageMakerClient;
}

/**
 * Plans every TrainingPlanPurchase with the handler's own parser, query and judge, asking SageMaker
 * read-only (SearchTrainingPlanOfferings, and DescribeTrainingPlan + ListTags for the plan's name:
 * a stack that already holds the plan adopts it and buys nothing). Each distinct question is asked once.
 */
export async function planTrainingPlans(found: FoundReservation[], options: TrainingPlanPlanOptions): Promise<TrainingPlanPlan[]> {
  const clients = new Map<string, SageMakerClient>();
  const clientFor = (region: string | undefined) => {
    const key = region ?? '';
    if (!clients.has(key)) clients.set(key, options.client?.(region) ?? new SageMakerClient(region ? { region } : {}));
    return clients.get(key)!;
  };
  const searches = new Map<string, Promise<PlanOffering[]>>();
  const plans: TrainingPlanPlan[] = [];
  try {
    for (const resource of found) {
      const region = resource.region ?? options.region ?? await sdkRegion(clientFor(undefined));
      plans.push(await planOne(resource, region, clientFor(region), options, (request, label) => {
        const query = planOfferingsQuery(request, options.now);
        const key = JSON.stringify([region ?? '', query]);
        if (!searches.has(key)) searches.set(key, search(clientFor(region), query, label, options.progress));
        return searches.get(key)!;
      }));
    }
  } finally {
    for (const client of clients.values()) client.destroy();
  }
  return plans;
}

/** The region the SDK's own chain resolves (AWS_REGION, the profile), for templates that name none. */
async function sdkRegion(client: SageMakerClient): Promise<string> {
  try {
    return await client.config.region();
  } catch (error) {
    throw explainSageMakerError(error, 'SearchTrainingPlanOfferings');
  }
}

async function planOne(resource: FoundReservation, region: string | undefined, client: SageMakerClient, options: TrainingPlanPlanOptions, offerings: (r: TrainingPlanRequest, label: string) => Promise<PlanOffering[]>): Promise<TrainingPlanPlan> {
  const base = { cloud: 'sagemaker' as const, stack: resource.stack, logicalId: resource.logicalId, region: region ?? '', offerings: [] };
  const { properties, unresolved } = resolveTokens(resource.properties, options.parameters);
  if (unresolved.length > 0) return { ...base, verdict: 'unresolved', reason: `depends on values known only at deploy time: ${unresolved.join('; ')}` };
  let request: TrainingPlanRequest;
  try {
    request = parseTrainingPlanRequest(asStrings(properties) as TrainingPlanWireProperties);
  } catch (error) {
    return { ...base, verdict: 'invalid', reason: (error as Error).message };
  }
  const shape = describePlanShape(request);
  const ceiling = money(request.maxUpfrontFee, request.currencyCode);
  const limit = { amount: request.maxUpfrontFee, currencyCode: request.currencyCode };
  const owned = request.previewOnly ? undefined : await ownedPlan(client, request.trainingPlanName, resource);
  if (owned) {
    return { ...base, verdict: 'owned', shape, maxUpfrontFee: ceiling, ceiling: limit, trainingPlanName: request.trainingPlanName, reason: `owned: ${owned} (adopted, nothing bought)` };
  }
  const judgement = judgePlanOfferings(await offerings(request, `${shape} in ${base.region || 'the default region'}`), request);
  const rows = [
    ...judgement.acceptable.map((offering, i) => ({ offering, verdict: i === 0 ? (request.previewOnly ? 'would preview' : 'would buy') : 'acceptable, not chosen' })),
    ...[...judgement.refused].sort((a, b) => feeOrder(a.offering) - feeOrder(b.offering)).map(({ offering, reason }) => ({ offering, verdict: reason })),
  ];
  const best = judgement.acceptable[0];
  if (!best) {
    const reason = judgement.refused.length === 0 ? `SageMaker offers no ${shape} in the requested window` : `none of the ${judgement.refused.length} offerings is acceptable`;
    return { ...base, verdict: 'no-acceptable-offering', reason, shape, maxUpfrontFee: ceiling, ceiling: limit, trainingPlanName: request.trainingPlanName, offerings: rows };
  }
  return {
    ...base, verdict: request.previewOnly ? 'preview' : 'would-buy', shape, maxUpfrontFee: ceiling, ceiling: limit, trainingPlanName: request.trainingPlanName, offerings: rows,
    chosen: {
      offeringId: best.id, availabilityZone: best.availabilityZone, startTime: best.startTime.toISOString(), endTime: best.endTime.toISOString(),
      upfrontFee: best.upfrontFee, currencyCode: best.currencyCode, perInstanceHour: planPerInstanceHour(best),
    },
  };
}

/**
 * The plan the resource already holds under its name, if SageMaker has one with this resource's owner
 * tag (stack name + logical id, as the handler writes it). Read by name: it never lags.
 */
async function ownedPlan(client: SageMakerClient, name: string, resource: FoundReservation): Promise<string | undefined> {
  try {
    const view = await client.send(new DescribeTrainingPlanCommand({ TrainingPlanName: name }));
    const tags = (await client.send(new ListTagsCommand({ ResourceArn: view.TrainingPlanArn }))).Tags ?? [];
    const owner = resourceKeys({ StackId: `arn:aws:cloudformation:::stack/${resource.stack}/x`, LogicalResourceId: resource.logicalId, RequestId: '' }).owner;
    return tags.some(t => t.Key === OWNER_TAG && t.Value === owner) ? `${name} (${view.Status}, ${view.UpfrontFee} ${view.CurrencyCode})` : undefined;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFound') return undefined;
    throw explainSageMakerError(error, 'DescribeTrainingPlan and ListTags');
  }
}

async function search(client: SageMakerClient, query: ReturnType<typeof planOfferingsQuery>, label: string, progress: (line: string) => void): Promise<PlanOffering[]> {
  try {
    progress(`reading training plan offerings for ${label}`);
    return ((await client.send(new SearchTrainingPlanOfferingsCommand(query))).TrainingPlanOfferings ?? []).map(toPlanOffering);
  } catch (error) {
    throw explainSageMakerError(error, 'SearchTrainingPlanOfferings');
  }
}

/** The offering's fee per instance and hour, as blocks are compared. */
export function planPerInstanceHour(o: PlanOffering): number {
  const hours = (o.endTime.getTime() - o.startTime.getTime()) / 3_600_000;
  return o.upfrontFee / (o.instanceCount * hours);
}

const feeOrder = (o: PlanOffering) => (Number.isFinite(o.upfrontFee) ? o.upfrontFee : Infinity);

/** One line: credentials, region or permissions, and the fix. */
function explainSageMakerError(error: unknown, actions: string): PlanCloudError {
  const e = error as { name?: string; message?: string };
  if (e?.name === 'CredentialsProviderError' || /credential/i.test(e?.message ?? '')) return new PlanCloudError('AWS: no credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws sso login`');
  if (/Region is missing/i.test(e?.message ?? '')) return new PlanCloudError('AWS: no region; deploy the stack with an env region, set AWS_REGION, or pass --region');
  if (/^(AccessDenied|UnauthorizedOperation)/.test(e?.name ?? '')) return new PlanCloudError(`AWS: ${e.name}: grant the caller sagemaker:${actions.replace(/ and /g, ', sagemaker:')} (read-only; the plan calls nothing else)`);
  return new PlanCloudError(`AWS: ${actions} failed: ${e?.name ?? 'Error'}: ${(e?.message ?? String(error)).split('\n')[0]}`);
}
