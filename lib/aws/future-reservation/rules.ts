/**
 * What EC2 accepts in a future-dated Capacity Reservation (EC2 user guide "create-future-cr" and the
 * CreateCapacityReservation model), as rules the construct checks at synth for literal props and the
 * handler checks again at deploy time, before any call that could commit money. Each returns a one-line
 * message naming the prop, the value and the fix, or undefined. Pure: no SDK or CDK imports.
 */

const DAY_MS = 86_400_000;

/** The start must lie 5 to 120 days after the request; EC2 recommends 56 days or more. */
export const MIN_START_LEAD_DAYS = 5;
export const MAX_START_LEAD_DAYS = 120;
export const RECOMMENDED_START_LEAD_DAYS = 56;
/** The commitment lasts at least 14 days from delivery. */
export const MIN_COMMITMENT_SECONDS = 14 * 86_400;
/** A future-dated request must add up to at least 32 vCPUs. */
export const MIN_TOTAL_VCPUS = 32;
/** The start can be pushed out, before delivery, to at most 30 days after the original start. */
export const MAX_START_POSTPONEMENT_DAYS = 30;
/** The families EC2 takes future-dated requests for. */
export const FUTURE_DATED_FAMILIES = ['C', 'G', 'I', 'M', 'R', 'T'] as const;

/**
 * A family of C, G, I, M, R or T is its letter followed by the generation digit (c7i, g6e, i4i, m7g,
 * r8g, t3): mac2, inf2, trn1, im4gn or hpc7g are other families that only start with those letters.
 */
const FUTURE_DATED_FAMILY = /^[cgimrt]\d[a-z0-9-]*\./;

export function futureDatedFamilyError(instanceType: string): string | undefined {
  return FUTURE_DATED_FAMILY.test(instanceType)
    ? undefined
    : `instanceType ${instanceType} is not in a family EC2 takes future-dated Capacity Reservations for (${FUTURE_DATED_FAMILIES.join(', ')}, e.g. m7i.8xlarge, c7g.16xlarge, g6.12xlarge); choose such a type, or use a Capacity Block for accelerated types`;
}

/**
 * vCPUs of one instance as the size names them in these families: large 2, xlarge 4, Nxlarge 4N, and
 * at most 2 below large (t3.nano to t3.medium have 2). Undefined for metal sizes, which vary: the
 * handler reads those with DescribeInstanceTypes before requesting.
 */
export function vcpusBySize(instanceType: string): number | undefined {
  const size = instanceType.split('.')[1] ?? '';
  if (['nano', 'micro', 'small', 'medium', 'large'].includes(size)) return 2;
  if (size === 'xlarge') return 4;
  const n = /^([1-9]\d*)xlarge$/.exec(size);
  return n ? 4 * Number(n[1]) : undefined;
}

/** At least 32 vCPUs in total; `vcpusPerInstance` from the size at synth, from EC2 at deploy time. */
export function totalVcpusError(instanceType: string, instanceCount: number, vcpusPerInstance: number | undefined): string | undefined {
  if (vcpusPerInstance === undefined || !Number.isInteger(instanceCount)) return undefined;
  const total = vcpusPerInstance * instanceCount;
  if (total >= MIN_TOTAL_VCPUS) return undefined;
  const needed = Math.ceil(MIN_TOTAL_VCPUS / vcpusPerInstance);
  return `instanceCount ${instanceCount} × ${instanceType} (${vcpusPerInstance} vCPUs) is ${total} vCPUs; a future-dated Capacity Reservation needs at least ${MIN_TOTAL_VCPUS}: set instanceCount to ${needed} or more, or choose a larger size`;
}

export function futureInstanceCountError(count: number): string | undefined {
  return Number.isInteger(count) && count >= 1
    ? undefined
    : `instanceCount must be a whole number of instances, 1 or more, got ${count}`;
}

/** startDate lies 5–120 days after `now` (the moment of the request); the deploy-time check is final. */
export function startDateError(startDate: Date, now: Date): string | undefined {
  if (Number.isNaN(startDate.getTime())) return 'startDate must be a valid date, got an invalid date';
  const days = (startDate.getTime() - now.getTime()) / DAY_MS;
  if (days < MIN_START_LEAD_DAYS) {
    return `startDate ${startDate.toISOString()} is ${formatDays(days)} from now; EC2 takes future-dated Capacity Reservations that start ${MIN_START_LEAD_DAYS} to ${MAX_START_LEAD_DAYS} days ahead: move it to ${new Date(now.getTime() + MIN_START_LEAD_DAYS * DAY_MS).toISOString()} or later (for capacity sooner, use a Capacity Block or an immediate Capacity Reservation)`;
  }
  if (days > MAX_START_LEAD_DAYS) {
    return `startDate ${startDate.toISOString()} is ${formatDays(days)} from now; EC2 takes future-dated Capacity Reservations that start at most ${MAX_START_LEAD_DAYS} days ahead: deploy on or after ${new Date(startDate.getTime() - MAX_START_LEAD_DAYS * DAY_MS).toISOString()}, or move the start earlier`;
  }
  return undefined;
}

/** Not an error: EC2 assesses requests made 56 days or more ahead more favourably. */
export function startDateWarning(startDate: Date, now: Date): string | undefined {
  const days = (startDate.getTime() - now.getTime()) / DAY_MS;
  return days >= MIN_START_LEAD_DAYS && days < RECOMMENDED_START_LEAD_DAYS
    ? `startDate ${startDate.toISOString()} is ${formatDays(days)} from now; EC2 recommends requesting ${RECOMMENDED_START_LEAD_DAYS} days or more ahead, and a shorter lead is more likely to be assessed unsupported`
    : undefined;
}

export function commitmentError(seconds: number): string | undefined {
  if (!Number.isInteger(seconds) || seconds < MIN_COMMITMENT_SECONDS) {
    return `commitment must be at least 14 days in whole seconds (EC2's minimum commitment for a future-dated Capacity Reservation), got ${Number.isFinite(seconds) ? formatDays(seconds / 86_400) : seconds}`;
  }
  return undefined;
}

/** An end date, when set, must not fall inside the commitment: EC2 refuses ending a reservation before it is over. */
export function endDateError(endDate: Date | undefined, startDate: Date, commitmentSeconds: number): string | undefined {
  if (endDate === undefined) return undefined;
  if (Number.isNaN(endDate.getTime())) return 'endDate must be a valid date, got an invalid date';
  const commitmentEnd = new Date(startDate.getTime() + commitmentSeconds * 1000);
  return endDate.getTime() >= commitmentEnd.getTime()
    ? undefined
    : `endDate ${endDate.toISOString()} falls inside the commitment, which runs from startDate to ${commitmentEnd.toISOString()}; move endDate to ${commitmentEnd.toISOString()} or later, or leave it unset (the reservation then runs until cancelled)`;
}

/**
 * Before delivery the start may only move later, by at most 30 days from the original start, through a
 * date-change quote. Earlier starts or longer postponements need a new reservation.
 */
export function startDateChangeError(originalStart: Date, currentStart: Date, requestedStart: Date): string | undefined {
  if (requestedStart.getTime() === currentStart.getTime()) return undefined;
  if (requestedStart.getTime() < currentStart.getTime()) {
    return `startDate can only move later once requested (EC2 pushes a future-dated start out, never in); it is ${currentStart.toISOString()}, asked ${requestedStart.toISOString()}: keep it, or set allowRepurchase to request a new reservation`;
  }
  const limit = new Date(originalStart.getTime() + MAX_START_POSTPONEMENT_DAYS * DAY_MS);
  return requestedStart.getTime() <= limit.getTime()
    ? undefined
    : `startDate ${requestedStart.toISOString()} is more than ${MAX_START_POSTPONEMENT_DAYS} days after the original start ${originalStart.toISOString()} (EC2's limit for postponing); choose ${limit.toISOString()} or earlier, or set allowRepurchase to request a new reservation`;
}

/** A money ceiling as the template carries it: a positive plain decimal (no exponent, no sign). */
export function moneyCeilingError(prop: string, amount: number, allowZero = false): string | undefined {
  if (!Number.isFinite(amount) || amount < 0 || (!allowZero && amount === 0)) {
    return `${prop} must be a ${allowZero ? 'non-negative' : 'positive'} number (the most you will pay), got ${amount}`;
  }
  return /^\d+(\.\d+)?$/.test(String(amount))
    ? undefined
    : `${prop} must be a plain decimal amount such as 250000 or 250000.50, got ${amount}, which the template would carry as '${String(amount)}'`;
}

function formatDays(days: number): string {
  return `${Number(days.toFixed(2))} days`;
}
