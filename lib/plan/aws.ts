import { EC2Client, paginateDescribeCapacityBlockOfferings } from '@aws-sdk/client-ec2';
import { judgeOfferings, money, Offering, offeringsQuery, toOffering } from '../aws/handler/offerings';
import { ownedLiveBlocks } from '../aws/handler/ownership';
import { describeBlock, PurchaseView } from '../aws/handler/reservation';
import { CapacityBlockRequest, describeShape, parseRequest } from '../aws/handler/request';
import { CapacityBlockWireProperties, ownerTagValue } from '../aws/wire';
import { FoundReservation, Json, resolveTokens } from './templates';

/** What one CapacityBlockPurchase would do if it were deployed now. */
export interface AwsBlockPlan {
  readonly cloud: 'aws';
  readonly stack: string;
  readonly logicalId: string;
  readonly region: string;
  /**
   * `would-buy` and `preview` succeed; `owned`: a deployed stack's resource already owns a live block
   * that serves these properties, so a deployment adopts it and buys nothing. The rest would fail the
   * deploy, for `reason` (`needs-allow-repurchase`: it owns live blocks none of which serves, and a
   * deployment buys another only with allowRepurchase).
   */
  readonly verdict: 'would-buy' | 'preview' | 'owned' | 'needs-allow-repurchase' | 'no-acceptable-offering' | 'invalid' | 'unresolved';
  readonly reason?: string;
  readonly shape?: string;
  readonly maxUpfrontFee?: string;
  /** The ceiling (maxUpfrontFee) as a number, with its currency: what the worst case adds up. */
  readonly ceiling?: { readonly amount: number; readonly currencyCode: string };
  /** Every offering EC2 listed, best first, with the judge's verdict on each. */
  readonly offerings: Array<{ readonly offering: Offering; readonly verdict: string }>;
  readonly chosen?: {
    readonly offeringId: string;
    readonly availabilityZone: string;
    readonly startDate: string;
    readonly endDate: string;
    readonly upfrontFee: number;
    readonly currencyCode: string;
    readonly perInstanceHour: number;
  };
}

/** Failures of the plan itself (credentials, region, permissions): exit 1, one line each. */
export class PlanCloudError extends Error {}

/** EC2 refused a block's search itself (e.g. an instance type it does not sell as Capacity Blocks): that block would fail. */
export class PlanRequestRefused extends Error {}

export interface AwsPlanOptions {
  readonly now: Date;
  /** Region for templates whose cloud assembly does not name one. @default the SDK's (AWS_REGION, profile) */
  readonly region?: string;
  readonly parameters: Record<string, string>;
  readonly progress: (line: string) => void;
  /** Injected for tests: a client per region. @default the SDK's default credential chain */
  readonly client?: (region: string | undefined) => EC2Client;
}

/**
 * Plans every CapacityBlockPurchase with the handler's own request parser, query and judge, asking
 * EC2 read-only. Each distinct question (region + query) is asked once, all pages, however many
 * blocks share it.
 */
export async function planAws(found: FoundReservation[], options: AwsPlanOptions): Promise<AwsBlockPlan[]> {
  const clients = new Map<string, EC2Client>();
  const clientFor = (region: string | undefined) => {
    const key = region ?? '';
    if (!clients.has(key)) clients.set(key, options.client?.(region) ?? new EC2Client(region ? { region } : {}));
    return clients.get(key)!;
  };
  const searches = new Map<string, Promise<Offering[]>>();
  const plans: AwsBlockPlan[] = [];
  let defaultRegion: string | undefined;
  try {
    for (const block of found) {
      const region = block.region ?? options.region ?? (defaultRegion ??= await sdkRegion(clientFor(undefined)));
      plans.push(await planBlock(block, region, { ...options, owned: (owner, request, r) => ownedBy(clientFor(r), owner, request, options.progress) }, (request, label) => {
        const query = offeringsQuery(request, options.now);
        const key = JSON.stringify([region ?? '', query]);
        if (!searches.has(key)) searches.set(key, readOfferings(clientFor(region), query, label, options.progress));
        return searches.get(key)!;
      }));
    }
  } finally {
    for (const client of clients.values()) client.destroy();
  }
  return plans;
}

type OwnedLookup = (owner: string, request: CapacityBlockRequest, region: string | undefined) => Promise<{ live: PurchaseView[]; serving?: PurchaseView }>;

async function planBlock(block: FoundReservation, region: string | undefined, options: AwsPlanOptions & { owned: OwnedLookup }, search: (request: CapacityBlockRequest, label: string) => Promise<Offering[]>): Promise<AwsBlockPlan> {
  const base = { cloud: 'aws' as const, stack: block.stack, logicalId: block.logicalId, region: region ?? '', offerings: [] };
  const { properties, unresolved } = resolveTokens(block.properties, options.parameters);
  if (unresolved.length > 0) return { ...base, verdict: 'unresolved', reason: `depends on values known only at deploy time: ${unresolved.join('; ')}` };
  let request: CapacityBlockRequest;
  try {
    request = parseRequest(asStrings(properties) as CapacityBlockWireProperties, region, options.now);
  } catch (error) {
    return { ...base, verdict: 'invalid', reason: (error as Error).message };
  }
  const shape = describeShape(request);
  const ceiling = money(request.maxUpfrontFee, request.currencyCode);
  const limit = { amount: request.maxUpfrontFee, currencyCode: request.currencyCode };
  let listed: Offering[];
  try {
    listed = await search(request, `${shape} in ${base.region}`);
  } catch (error) {
    if (error instanceof PlanRequestRefused) return { ...base, verdict: 'invalid', reason: error.message, shape, maxUpfrontFee: ceiling, ceiling: limit };
    throw error;
  }
  const judgement = judgeOfferings(listed, request);
  if (!request.previewOnly) {
    const owned = await options.owned(ownerTagValue(block.stack, block.logicalId), request, region);
    if (owned.serving) return { ...base, verdict: 'owned', reason: `${describeBlock(owned.serving)} (adopted, nothing bought)`, shape, maxUpfrontFee: ceiling, ceiling: limit };
    if (owned.live.length > 0 && !request.allowRepurchase) {
      return { ...base, verdict: 'needs-allow-repurchase', reason: `this resource already holds ${owned.live.map(describeBlock).join('; ')}, which cannot be modified or cancelled, and these properties need a new block; revert them, or set allowRepurchase: true to buy one`, shape, maxUpfrontFee: ceiling, ceiling: limit };
    }
  }
  const offerings = [
    ...judgement.acceptable.map((offering, i) => ({ offering, verdict: i === 0 ? (request.previewOnly ? 'would preview' : 'would buy') : 'acceptable, not chosen' })),
    ...[...judgement.refused].sort((a, b) => feeOrder(a.offering) - feeOrder(b.offering)).map(({ offering, reason }) => ({ offering, verdict: reason })),
  ];
  const best = judgement.acceptable[0];
  if (!best) {
    const reason = judgement.refused.length === 0
      ? `EC2 offers no ${shape}${request.availabilityZone ? ` in ${request.availabilityZone}` : ''} in the requested window`
      : `none of the ${judgement.refused.length} offerings is acceptable: ${whyNoneFits(listed, request)}`;
    return { ...base, verdict: 'no-acceptable-offering', reason, shape, maxUpfrontFee: ceiling, ceiling: limit, offerings };
  }
  return {
    ...base, verdict: request.previewOnly ? 'preview' : 'would-buy', shape, maxUpfrontFee: ceiling, ceiling: limit, offerings,
    chosen: {
      offeringId: best.id, availabilityZone: best.availabilityZone, startDate: best.startDate.toISOString(), endDate: best.endDate.toISOString(),
      upfrontFee: best.upfrontFee, currencyCode: best.currencyCode, perInstanceHour: perInstanceHour(best),
    },
  };
}

/**
 * The live blocks a deployed stack's resource owns, and the one that serves the request. Read-only; a caller
 * that may not list reservations still gets the plan, told that owned blocks were not checked.
 */
async function ownedBy(client: EC2Client, owner: string, request: CapacityBlockRequest, progress: (line: string) => void): Promise<{ live: PurchaseView[]; serving?: PurchaseView }> {
  try {
    return await ownedLiveBlocks(owner, request, client);
  } catch (error) {
    progress(`could not check the blocks ${owner} owns (${explainAwsError(error, 'DescribeCapacityReservations').message}); planning as if it owned none`);
    return { live: [] };
  }
}

/**
 * What keeps every offering out, found by relaxing one criterion at a time: the zone, the ceiling,
 * the window or the currency that alone stands between the request and an offering. The fee is only
 * named when it is what refuses (a wrong zone is not fixed by a higher ceiling).
 */
function whyNoneFits(offerings: Offering[], request: CapacityBlockRequest): string {
  const cheapest = (relaxed: Partial<CapacityBlockRequest>) => judgeOfferings(offerings, { ...request, ...relaxed }).acceptable
    .sort((a, b) => feeOrder(a) - feeOrder(b));
  const causes: string[] = [];
  const elsewhere = request.availabilityZone === undefined ? [] : cheapest({ availabilityZone: undefined });
  if (elsewhere.length > 0) {
    const zones = [...new Set(elsewhere.map(o => o.availabilityZone))].sort();
    causes.push(`none is in ${request.availabilityZone}; ${elsewhere.length} would fit in ${zones.join(', ')} (cheapest ${money(elsewhere[0].upfrontFee, elsewhere[0].currencyCode)}): change or drop availabilityZone`);
  }
  const pricier = cheapest({ maxUpfrontFee: Infinity, maxUpfrontFeeText: '9'.repeat(40) });
  if (pricier.length > 0) {
    causes.push(`the cheapest that meets every other criterion costs ${money(pricier[0].upfrontFee, pricier[0].currencyCode)}, above maxUpfrontFee ${money(request.maxUpfrontFee, request.currencyCode)}: raise maxUpfrontFee`);
  }
  const later = request.earliestStart === undefined && request.latestEnd === undefined ? [] : cheapest({ earliestStart: undefined, latestEnd: undefined });
  if (later.length > 0) causes.push(`${later.length} would fit outside the window earliestStart..latestEnd: widen it`);
  const otherCurrency = offerings.filter(o => o.currencyCode !== request.currencyCode);
  if (otherCurrency.length === offerings.length) causes.push(`every offering is priced in ${[...new Set(otherCurrency.map(o => o.currencyCode))].join(', ')}, not ${request.currencyCode}: set currencyCode`);
  if (causes.length > 0) return causes.join('; ');
  // No one criterion alone: the most common first refusal says where to start.
  const counts = new Map<string, number>();
  for (const { reason } of judgeOfferings(offerings, request).refused) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const [reason, count] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return `each fails more than one criterion; the most common: ${reason} (${count} of ${offerings.length})`;
}

/** The region the SDK's own chain resolves (AWS_REGION, the profile), for templates that name none. */
async function sdkRegion(client: EC2Client): Promise<string> {
  try {
    return await client.config.region();
  } catch (error) {
    throw explainAwsError(error);
  }
}

const feeOrder = (o: Offering) => (Number.isFinite(o.upfrontFee) ? o.upfrontFee : Infinity);

export function perInstanceHour(o: Offering): number {
  const hours = (o.endDate.getTime() - o.startDate.getTime()) / 3_600_000;
  return o.upfrontFee / (o.instanceCount * hours);
}

async function readOfferings(client: EC2Client, query: ReturnType<typeof offeringsQuery>, label: string, progress: (line: string) => void): Promise<Offering[]> {
  const offerings: Offering[] = [];
  let page = 0;
  try {
    for await (const result of paginateDescribeCapacityBlockOfferings({ client, pageSize: 1000 }, query)) {
      progress(`reading Capacity Block offerings for ${label}: page ${++page}, ${offerings.length + (result.CapacityBlockOfferings?.length ?? 0)} offerings`);
      offerings.push(...(result.CapacityBlockOfferings ?? []).map(toOffering));
    }
  } catch (error) {
    throw explainAwsError(error);
  }
  return offerings;
}

/** One line: what went wrong with the credentials, the region or the permissions, and the fix. */
export function explainAwsError(error: unknown, action = 'DescribeCapacityBlockOfferings'): PlanCloudError | PlanRequestRefused {
  const e = error as { name?: string; message?: string };
  const name = e?.name ?? 'Error';
  if (name === 'CredentialsProviderError' || /credential/i.test(e?.message ?? '')) {
    return new PlanCloudError('AWS: no credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws sso login`');
  }
  if (/Region is missing/i.test(e?.message ?? '')) {
    return new PlanCloudError('AWS: no region; deploy the stack with an env region, set AWS_REGION, or pass --region');
  }
  if (/^(InvalidParameterValue|InvalidParameterCombination)$/.test(name)) {
    return new PlanRequestRefused(`EC2 refused the search: ${name}: ${(e?.message ?? '').split('\n')[0]}`);
  }
  if (/^(UnauthorizedOperation|AccessDenied|AuthFailure)/.test(name)) {
    return new PlanCloudError(`AWS: ${name}: grant the caller ec2:DescribeCapacityBlockOfferings and ec2:DescribeCapacityReservations (read-only; the plan calls nothing else)`);
  }
  return new PlanCloudError(`AWS: ${action} failed: ${name}: ${(e?.message ?? String(error)).split('\n')[0]}`);
}

/** CloudFormation delivers every scalar property as a string; so does the plan, to parse as the handler does. */
export function asStrings(properties: Json): Json {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
}

