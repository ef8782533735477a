import * as rules from '../validation';
import {
  CapacityBlockWireProperties, DEFAULT_CURRENCY, DEFAULT_PLATFORM, DEFAULT_WAIT_TIMEOUT_SECONDS, WireTag,
} from '../wire';
import { UserError } from './errors';
import { wireReaders } from './wire-values';

export type Selection = 'CHEAPEST' | 'EARLIEST_START';

/** The resource's properties, parsed and validated: what the user asked for. */
export interface CapacityBlockRequest {
  /** Instance blocks: the type and count ('' and NaN for an UltraServer block). */
  readonly instanceType: string;
  readonly instanceCount: number;
  /** UltraServer blocks: the type and count (absent for an instance block). */
  readonly ultraserverType?: string;
  readonly ultraserverCount?: number;
  /** Ask EC2 for offerings in every zone, Local Zones included. */
  readonly allAvailabilityZones: boolean;
  readonly durationHours: number;
  readonly maxUpfrontFee: number;
  /** The ceiling as the template wrote it: fees are compared with it exactly, in decimal (compareDecimal). */
  readonly maxUpfrontFeeText: string;
  readonly currencyCode: string;
  readonly offeringId?: string;
  readonly earliestStart?: Date;
  readonly latestEnd?: Date;
  readonly availabilityZone?: string;
  readonly selection: Selection;
  readonly instancePlatform: string;
  readonly previewOnly: boolean;
  readonly waitTimeoutSeconds: number;
  readonly allowRepurchase: boolean;
  readonly tags: WireTag[];
}

/**
 * Parses CloudFormation's all-strings properties and applies the same rules as the construct, now
 * that tokens have resolved. Throws one UserError naming every bad value, before any cloud call.
 */
export function parseRequest(props: CapacityBlockWireProperties, region: string | undefined, now: Date): CapacityBlockRequest {
  const errors: Array<string | undefined> = [];
  // CloudFormation delivers every scalar as a string; a token (a parameter, an import) resolves to one.
  const { text, number, flag, date } = wireReaders(errors);

  const ultraserverType = text(props.UltraserverType);
  const ultraservers = ultraserverType !== undefined || text(props.UltraserverCount) !== undefined;
  const shape = rules.blockShapeError({
    instanceType: text(props.InstanceType) !== undefined,
    instanceCount: text(props.InstanceCount) !== undefined,
    ultraserverType: ultraserverType !== undefined,
    ultraserverCount: text(props.UltraserverCount) !== undefined,
  });
  errors.push(shape);
  const instanceType = props.InstanceType ?? '';
  const instanceCount = ultraservers ? NaN : number('instanceCount', props.InstanceCount, rules.parseWholeNumber);
  const ultraserverCount = ultraservers && !shape ? number('ultraserverCount', props.UltraserverCount, rules.parseWholeNumber) : undefined;
  const durationHours = number('duration (hours)', props.DurationHours, rules.parseDecimal);
  const maxUpfrontFee = number('maxUpfrontFee', props.MaxUpfrontFee, rules.parseDecimal);
  const waitTimeoutSeconds = number('waitTimeout (seconds)', props.WaitTimeoutSeconds, rules.parseDecimal, DEFAULT_WAIT_TIMEOUT_SECONDS);
  const currencyCode = text(props.CurrencyCode) ?? DEFAULT_CURRENCY;
  const offeringId = text(props.OfferingId);
  const availabilityZone = text(props.AvailabilityZone);
  const earliestStart = date(props.EarliestStart);
  const latestEnd = date(props.LatestEnd);
  const selection = (text(props.Selection) ?? 'CHEAPEST') as Selection;
  const tags = (props.Tags ?? []).map(t => ({ Key: String(t.Key), Value: String(t.Value ?? '') }));

  if (!ultraservers && !shape) {
    errors.push(rules.instanceTypeError(instanceType));
    if (!Number.isNaN(instanceCount)) errors.push(rules.instanceCountError(instanceCount));
  }
  if (ultraserverType !== undefined) errors.push(rules.ultraserverTypeError(ultraserverType));
  if (ultraserverCount !== undefined && !Number.isNaN(ultraserverCount)) errors.push(rules.ultraserverCountError(ultraserverCount));
  if (!Number.isNaN(durationHours)) errors.push(rules.durationError(durationHours));
  if (!Number.isNaN(maxUpfrontFee)) errors.push(rules.maxUpfrontFeeError(maxUpfrontFee));
  if (!Number.isNaN(waitTimeoutSeconds)) errors.push(rules.waitTimeoutError(waitTimeoutSeconds));
  errors.push(rules.currencyCodeError(currencyCode));
  if (offeringId !== undefined) {
    errors.push(rules.offeringIdError(offeringId));
    errors.push(rules.pinnedOfferingConflicts({ earliestStart, latestEnd, availabilityZone, selection: text(props.Selection) }));
  }
  if (availabilityZone !== undefined) errors.push(rules.availabilityZoneError(availabilityZone, region));
  if (selection !== 'CHEAPEST' && selection !== 'EARLIEST_START') {
    errors.push(`selection must be CHEAPEST or EARLIEST_START, got '${selection}'`);
  }
  errors.push(rules.windowError(earliestStart, latestEnd, Number.isNaN(durationHours) ? undefined : durationHours));
  errors.push(rules.leadTimeError(earliestStart, now));
  errors.push(...rules.tagErrors(tags, ultraservers));
  const request: CapacityBlockRequest = {
    instanceType: ultraservers ? '' : instanceType,
    instanceCount,
    ultraserverType: ultraservers ? ultraserverType : undefined,
    ultraserverCount,
    allAvailabilityZones: flag('allAvailabilityZones', props.AllAvailabilityZones),
    durationHours,
    maxUpfrontFee,
    maxUpfrontFeeText: String(props.MaxUpfrontFee ?? ''),
    currencyCode,
    offeringId,
    earliestStart,
    latestEnd,
    availabilityZone,
    selection,
    instancePlatform: text(props.InstancePlatform) ?? DEFAULT_PLATFORM,
    previewOnly: flag('previewOnly', props.PreviewOnly),
    waitTimeoutSeconds,
    allowRepurchase: flag('allowRepurchase', props.AllowRepurchase),
    tags,
  };
  const found = errors.filter((e): e is string => e !== undefined);
  if (found.length > 0) {
    throw new UserError(`Invalid CapacityBlockPurchase properties: ${found.join('; ')}`);
  }
  return request;
}

/** Checks that only make sense when buying now: the window must still be ahead of us. */
export function assertWindowStillOpen(request: CapacityBlockRequest, now: Date): void {
  if (request.latestEnd && request.latestEnd.getTime() - Math.max(now.getTime(), request.earliestStart?.getTime() ?? 0) < request.durationHours * 3_600_000) {
    throw new UserError(`latestEnd ${request.latestEnd.toISOString()} leaves no room for a ${rules.formatHours(request.durationHours)} block starting after now (${now.toISOString()}); move latestEnd later`);
  }
}

/** A short human description of what is being bought, for messages. */
export function describeShape(request: CapacityBlockRequest): string {
  const what = isUltraServer(request) ? `${request.ultraserverCount} x UltraServer ${request.ultraserverType}` : `${request.instanceCount} x ${request.instanceType}`;
  return `${what} for ${rules.formatHours(request.durationHours)}`;
}

export function isUltraServer(request: Pick<CapacityBlockRequest, 'ultraserverType'>): boolean {
  return request.ultraserverType !== undefined;
}
