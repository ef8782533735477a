/**
 * What a future-dated Capacity Reservation is to the lifecycle core (its LifecycleAdapter), and the
 * EC2 and Price List calls its handler makes. EC2 facts (the @aws-sdk/client-ec2 model):
 * CreateCapacityReservation takes a ClientToken (EC2 answers a repeat with the first result) and
 * TagSpecifications; a quote carries hours and a count, never money; cancelling inside the commitment
 * needs QuoteId + ApplyCancellationCharges=commitment-wind-down.
 */
import {
  CancelCapacityReservationCommand, CapacityReservation, CreateCapacityReservationCancellationQuoteCommand, CreateCapacityReservationCommand,
  CreateCapacityReservationDateChangeQuoteCommand, CreateTagsCommand, DeleteTagsCommand, DescribeCapacityReservationsCommand, DescribeInstanceTypesCommand,
  ModifyCapacityReservationCommand, Tag,
} from '@aws-sdk/client-ec2';
import { paginateGetProducts, PricingClient } from '@aws-sdk/client-pricing';
import { Outcome } from '../../core/ledger';
import { hoursLeftOf, LifecycleAdapter } from '../../core/lifecycle';
import { guardCalls } from '../../handler/budget';
import { ec2, ec2CallOptions } from '../../handler/ec2';
import { UserError } from '../../handler/errors';
import { callOptions, requestHandler, Retries, retryPolicy } from '../../handler/retries';
import { formatHours } from '../../validation';
import { IDEMPOTENCY_TAG, OWNER_TAG, RESERVED_TAG_PREFIX, WireTag } from '../../wire';
import { toExactText } from '../../../shared/decimal';
import { CancellationTerm, commitmentCost, OnDemandRate, onDemandRate, priceListFilters, priceListRegionFor } from '../price';
import { vcpusBySize } from '../rules';
import { describeShape, FutureReservationRequest } from './request';

/** One reservation this resource asked EC2 for, as its ledger keeps it. */
export interface LedgerReservation {
  /** The ClientToken of the request: one per resource lifetime. */
  readonly clientToken: string;
  /** The CloudFormation request that asked (its idempotency tag). */
  readonly requestKey: string;
  readonly intentAt: string;
  outcome: Outcome;
  id?: string;
  arn?: string;
  /** What was asked, to tell whether it serves a later request (EC2 shows a count of 0 until delivery). */
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly availabilityZone: string;
  readonly instancePlatform: string;
  readonly tenancy: string;
  readonly commitmentSeconds: number;
  /** Exact decimal text at the rate read when it was requested. */
  readonly committedCost: string;
  readonly currencyCode: string;
  /** Digests of the properties CloudFormation received this reservation's id for. */
  answeredFor: string[];
  /** CloudFormation let go of it (Delete answered). */
  released: boolean;
}

export interface FutureLedgerRecord {
  reservations: LedgerReservation[];
}

/** A ledger entry with what EC2 shows of it now (undefined: not shown). */
export interface OwnedReservation {
  readonly entry: LedgerReservation;
  readonly view?: CapacityReservation;
}

/** States in which the reservation holds, or will hold, capacity. */
const LIVE_STATES = ['assessing', 'scheduled', 'active', 'delayed'];

export const futureReservationAdapter: LifecycleAdapter<OwnedReservation, FutureReservationRequest> = {
  noun: 'future-dated Capacity Reservation',
  service: 'EC2',
  entry: o => o.entry,
  idOf: o => o.entry.id ?? o.entry.clientToken,
  describe: o => `${o.entry.id} (${o.view?.State ?? 'not shown by EC2'}, ${describeShape(o.entry)}${o.view?.StartDate ? ` from ${o.view.StartDate.toISOString()}` : ''})`,
  isListed: o => o.view !== undefined,
  isLive: o => LIVE_STATES.includes(o.view?.State ?? ''),
  mismatches: (o, r) => {
    const e = o.entry;
    const why: string[] = [];
    if (e.instanceType !== r.instanceType) why.push(`instanceType ${r.instanceType} (${e.id} is ${e.instanceType})`);
    if (e.instanceCount !== r.instanceCount) why.push(`instanceCount ${r.instanceCount} (${e.id} holds ${e.instanceCount})`);
    if (e.availabilityZone !== r.availabilityZone) why.push(`availabilityZone ${r.availabilityZone} (${e.id} is in ${e.availabilityZone})`);
    if (e.instancePlatform !== r.instancePlatform) why.push(`instancePlatform ${r.instancePlatform} (${e.id} is ${e.instancePlatform})`);
    if (e.tenancy !== r.tenancy) why.push(`tenancy ${r.tenancy} (${e.id} is ${e.tenancy})`);
    return why;
  },
  hoursBought: o => Math.floor(o.entry.commitmentSeconds / 3600),
  hoursLeft: (o, now) => hoursLeftOf(Math.floor(o.entry.commitmentSeconds / 3600), o.view?.StartDate, o.view?.CommitmentInfo?.CommitmentEndDate, now),
  endsAt: o => o.view?.EndDate?.getTime() ?? o.view?.CommitmentInfo?.CommitmentEndDate?.getTime() ?? 0,
  durationHours: r => Math.floor(r.commitmentSeconds / 3600),
  allowRepurchase: r => r.allowRepurchase,
  refuse: (current, reasons) => new UserError(
    `This change needs a new future-dated Capacity Reservation (${reasons.join(', ')}), and this resource holds ${futureReservationAdapter.describe(current)}; nothing was requested. Revert the change, or set allowRepurchase: true to request a new one (${formatHours(futureReservationAdapter.hoursBought(current))} commitment)`,
  ),
};

/** Reads one reservation by id: undefined when EC2 does not show it (NotFound is an answer, not a failure). */
export async function describeReservation(id: string): Promise<CapacityReservation | undefined> {
  try {
    const out = await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }), ec2CallOptions());
    return out.CapacityReservations?.find(r => r.CapacityReservationId === id);
  } catch (error) {
    if ((error as Error)?.name === 'InvalidCapacityReservationId.NotFound') return undefined;
    throw error;
  }
}

/** The reservations one CloudFormation request asked for, by its idempotency tag (a lost answer's outcome). */
export async function reservationsOfRequest(requestKey: string): Promise<CapacityReservation[]> {
  const out = await ec2.send(new DescribeCapacityReservationsCommand({ Filters: [{ Name: `tag:${IDEMPOTENCY_TAG}`, Values: [requestKey] }] }), ec2CallOptions());
  return out.CapacityReservations ?? [];
}

/** vCPUs of one instance: from the size where it says (rules.ts), else from EC2 (metal sizes vary). */
export async function vcpusOf(instanceType: string): Promise<number | undefined> {
  const bySize = vcpusBySize(instanceType);
  if (bySize !== undefined) return bySize;
  const out = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as never] }), ec2CallOptions());
  return out.InstanceTypes?.[0]?.VCpuInfo?.DefaultVCpus;
}

/** What the request asks EC2 for; `tokens` keep a lost answer's repeat the same request. */
export async function requestReservation(request: FutureReservationRequest, ids: { clientToken: string; requestKey: string; owner: string }): Promise<CapacityReservation> {
  const tags: Tag[] = [...request.tags, { Key: OWNER_TAG, Value: ids.owner }, { Key: IDEMPOTENCY_TAG, Value: ids.requestKey }];
  const out = await ec2.send(new CreateCapacityReservationCommand({
    ClientToken: ids.clientToken,
    InstanceType: request.instanceType,
    InstancePlatform: request.instancePlatform as never,
    AvailabilityZone: request.availabilityZone,
    Tenancy: request.tenancy as never,
    InstanceCount: request.instanceCount,
    InstanceMatchCriteria: 'targeted',
    StartDate: request.startDate,
    CommitmentDuration: request.commitmentSeconds,
    DeliveryPreference: 'incremental',
    ...(request.endDate ? { EndDateType: 'limited', EndDate: request.endDate } : { EndDateType: 'unlimited' }),
    TagSpecifications: [{ ResourceType: 'capacity-reservation', Tags: tags }],
  }), ec2CallOptions());
  if (!out.CapacityReservation?.CapacityReservationId) throw new Error('CreateCapacityReservation answered without a CapacityReservationId');
  return out.CapacityReservation;
}

/** Cancels without a charge (assessing, delayed, after the commitment): EC2 refuses it otherwise. */
export async function cancelFree(id: string): Promise<void> {
  await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id }), ec2CallOptions());
}

export async function cancellationQuote(id: string): Promise<{ quoteId: string; terms: CancellationTerm[] }> {
  const out = await ec2.send(new CreateCapacityReservationCancellationQuoteCommand({ CapacityReservationId: id }), ec2CallOptions());
  const quote = out.CapacityReservationCancellationQuote;
  if (!quote?.CapacityReservationCancellationQuoteId) throw new Error('CreateCapacityReservationCancellationQuote answered without a quote id');
  return { quoteId: quote.CapacityReservationCancellationQuoteId, terms: quote.CancellationTerms ?? [] };
}

export async function cancelWithQuote(id: string, quoteId: string): Promise<void> {
  await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id, QuoteId: quoteId, ApplyCancellationCharges: 'commitment-wind-down' }), ec2CallOptions());
}

/** Pushes the start out through a date-change quote, accepted as quoted. */
export async function moveStart(id: string, startDate: Date): Promise<void> {
  const out = await ec2.send(new CreateCapacityReservationDateChangeQuoteCommand({ CapacityReservationId: id, NewStartDate: startDate }), ec2CallOptions());
  const quoteId = out.CapacityReservationModificationQuote?.CapacityReservationModificationQuoteId;
  if (!quoteId) throw new Error('CreateCapacityReservationDateChangeQuote answered without a quote id');
  await ec2.send(new ModifyCapacityReservationCommand({ CapacityReservationId: id, StartDate: startDate, QuoteId: quoteId, AcceptModificationTerms: true }), ec2CallOptions());
}

/** Makes the user's tags what the template says: the library's own tags are never touched. */
export async function syncTags(id: string, view: CapacityReservation | undefined, wanted: readonly WireTag[]): Promise<void> {
  const current = (view?.Tags ?? []).filter(t => t.Key && !t.Key.startsWith(RESERVED_TAG_PREFIX));
  const gone = current.filter(t => !wanted.some(w => w.Key === t.Key)).map(t => ({ Key: t.Key }));
  const changed = wanted.filter(w => !current.some(t => t.Key === w.Key && t.Value === w.Value));
  if (gone.length > 0) await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: gone }), ec2CallOptions());
  if (changed.length > 0) await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [...changed] }), ec2CallOptions());
}

const defaultPricingClient = () => new PricingClient({ maxAttempts: retryPolicy.maxAttempts });
let pricing: PricingClient | undefined;

/**
 * The On-Demand rate of the request, from the Price List Query API in the endpoint region nearest the
 * stack's (AWS_ENDPOINT_URL_PRICING points it at an emulator). Reads only: the SDK's retries are safe.
 */
export async function readRate(request: FutureReservationRequest, region: string): Promise<OnDemandRate> {
  pricing ??= guardCalls(new PricingClient({ region: priceListRegionFor(region), retryStrategy: new Retries(() => true, defaultPricingClient), requestHandler }));
  const priceList: string[] = [];
  const filters = priceListFilters({ instanceType: request.instanceType, region, instancePlatform: request.instancePlatform, tenancy: request.tenancy });
  for await (const page of paginateGetProducts({ client: pricing }, { ServiceCode: 'AmazonEC2', Filters: filters, FormatVersion: 'aws_v1', MaxResults: 100 }, callOptions())) {
    priceList.push(...(page.PriceList ?? []).map(String));
  }
  return onDemandRate(priceList, request.currencyCode, `${request.instanceType} (${request.instancePlatform}, ${request.tenancy}) in ${region}`);
}

/** The commitment's cost as exact decimal text. */
export function committedCostText(rate: OnDemandRate, request: FutureReservationRequest): string {
  return toExactText(commitmentCost(rate, request.instanceCount, request.commitmentSeconds));
}
