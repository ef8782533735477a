/**
 * What a future-dated Capacity Reservation costs, from the Price List Query API: EC2 bills an active
 * reservation at the On-Demand rate, used or not, so the commitment costs rate × count × hours, and a
 * cancellation quote (which carries hours and a count but no money) costs the same product.
 * Pure: the handler and `plan` call GetProducts and hand the answers here.
 */
import { addDecimals, compareDecimals, ExactDecimal, multiplyDecimals, readDecimal, scaleDecimalUp, toMoneyText, wholeDecimal } from '../../shared/decimal';

/** Price List filter, as `@aws-sdk/client-pricing` GetProducts takes it. */
export interface PriceListFilter {
  readonly Type: 'TERM_MATCH';
  readonly Field: string;
  readonly Value: string;
}

/**
 * How the Price List names an instance platform (EC2's CapacityReservationInstancePlatform values):
 * the operating system and the software that comes with it. `licenseModel` is fixed to the licence
 * AWS provides, which is what a reservation of that platform is billed at (BYOL has its own platform).
 */
const PLATFORM_PRICE_ATTRIBUTES: Record<string, { readonly operatingSystem: string; readonly preInstalledSw: string }> = {
  'Linux/UNIX': { operatingSystem: 'Linux', preInstalledSw: 'NA' },
  'Red Hat Enterprise Linux': { operatingSystem: 'RHEL', preInstalledSw: 'NA' },
  'SUSE Linux': { operatingSystem: 'SUSE', preInstalledSw: 'NA' },
  'Ubuntu Pro': { operatingSystem: 'Ubuntu Pro', preInstalledSw: 'NA' },
  'Windows': { operatingSystem: 'Windows', preInstalledSw: 'NA' },
  'Windows with SQL Server': { operatingSystem: 'Windows', preInstalledSw: 'SQL Std' },
  'Windows with SQL Server Standard': { operatingSystem: 'Windows', preInstalledSw: 'SQL Std' },
  'Windows with SQL Server Enterprise': { operatingSystem: 'Windows', preInstalledSw: 'SQL Ent' },
  'Windows with SQL Server Web': { operatingSystem: 'Windows', preInstalledSw: 'SQL Web' },
  'Linux with SQL Server Standard': { operatingSystem: 'Linux', preInstalledSw: 'SQL Std' },
  'Linux with SQL Server Enterprise': { operatingSystem: 'Linux', preInstalledSw: 'SQL Ent' },
  'Linux with SQL Server Web': { operatingSystem: 'Linux', preInstalledSw: 'SQL Web' },
};

export const PRICED_PLATFORMS: readonly string[] = Object.keys(PLATFORM_PRICE_ATTRIBUTES);

/** The Price List's tenancy names for EC2's reservation tenancies. */
const TENANCY_PRICE_NAMES: Record<string, string> = { default: 'Shared', dedicated: 'Dedicated' };

/**
 * The Price List Query API endpoint to ask for `region`'s prices: it exists in us-east-1,
 * eu-central-1 and ap-south-1 only, and every other region is asked through the nearest of these
 * (prices are global data, only the endpoint is regional).
 */
export function priceListRegionFor(region: string): string {
  if (region.startsWith('eu-') || region.startsWith('me-') || region.startsWith('af-') || region.startsWith('il-')) return 'eu-central-1';
  if (region.startsWith('ap-')) return 'ap-south-1';
  return 'us-east-1';
}

export interface PricedReservation {
  readonly instanceType: string;
  readonly region: string;
  readonly instancePlatform: string;
  /** 'default' | 'dedicated' */
  readonly tenancy: string;
}

/**
 * The filters that leave one product: without `capacitystatus` the same instance answers three times
 * (Used, UnusedCapacityReservation, AllocatedCapacityReservation, billed at one rate); 'Used' is the
 * On-Demand rate an active reservation is billed at.
 */
export function priceListFilters(r: PricedReservation): PriceListFilter[] {
  const platform = PLATFORM_PRICE_ATTRIBUTES[r.instancePlatform];
  if (!platform) throw new Error(`instancePlatform '${r.instancePlatform}' has no Price List name this release knows (${PRICED_PLATFORMS.join(', ')})`);
  const tenancy = TENANCY_PRICE_NAMES[r.tenancy];
  if (!tenancy) throw new Error(`tenancy '${r.tenancy}' must be default or dedicated`);
  const terms: Array<[string, string]> = [
    ['instanceType', r.instanceType],
    ['regionCode', r.region],
    ['operatingSystem', platform.operatingSystem],
    ['preInstalledSw', platform.preInstalledSw],
    ['tenancy', tenancy],
    ['capacitystatus', 'Used'],
    ['licenseModel', 'No License required'],
  ];
  return terms.map(([Field, Value]) => ({ Type: 'TERM_MATCH', Field, Value }));
}

/** The On-Demand rate per instance-hour that the Price List answered, exact. */
export interface OnDemandRate {
  /** Plain decimal text as the Price List writes it, e.g. "1.5360000000". */
  readonly perInstanceHour: string;
  readonly currency: string;
  readonly sku: string;
  /** More than one product matched: the highest rate was taken, so no ceiling check is too low. */
  readonly candidates: number;
}

/**
 * Reads GetProducts' PriceList (each item a JSON document as a string) into one On-Demand rate in
 * `currency`. Several matching products (a filter the Price List grew since) take the highest rate:
 * a ceiling is never checked against less than EC2 may bill. Throws, with what was seen, when no
 * product carries an hourly On-Demand rate in that currency: nothing is requested on a guess.
 */
export function onDemandRate(priceList: readonly string[], currency: string, what: string): OnDemandRate {
  const rates: Array<{ text: string; value: ExactDecimal; sku: string }> = [];
  for (const item of priceList) {
    const product = JSON.parse(item) as PriceListProduct;
    for (const term of Object.values(product.terms?.OnDemand ?? {})) {
      for (const dimension of Object.values(term.priceDimensions ?? {})) {
        const text = dimension.pricePerUnit?.[currency];
        const value = text === undefined ? undefined : readDecimal(text);
        if (dimension.unit === 'Hrs' && value !== undefined) rates.push({ text: text!, value, sku: product.product?.sku ?? term.sku ?? '?' });
      }
    }
  }
  if (rates.length === 0) {
    throw new Error(`the Price List has no hourly On-Demand rate in ${currency} for ${what} (${priceList.length} product(s) answered); check instanceType, availabilityZone's region, instancePlatform and tenancy`);
  }
  const highest = rates.reduce((a, b) => (compareDecimals(b.value, a.value) > 0 ? b : a));
  return { perInstanceHour: highest.text, currency, sku: highest.sku, candidates: rates.length };
}

const SECONDS_PER_HOUR = 3600;

/**
 * rate × count × commitment hours. A commitment of whole hours is exact; any other length is rounded
 * up at the rate's precision plus six places, so the cost is never understated.
 */
export function commitmentCost(rate: OnDemandRate, instanceCount: number, commitmentSeconds: number): ExactDecimal {
  const perHour = multiplyDecimals(readRate(rate), wholeDecimal(instanceCount));
  if (commitmentSeconds % SECONDS_PER_HOUR === 0) return multiplyDecimals(perHour, wholeDecimal(commitmentSeconds / SECONDS_PER_HOUR));
  return scaleDecimalUp(perHour, commitmentSeconds, SECONDS_PER_HOUR, perHour.scale + 6);
}

/** One of a cancellation quote's CancellationTerms: hours charged for a committed count (no money in it). */
export interface CancellationTerm {
  readonly ChargeCommitmentDurationHours?: number;
  readonly CommittedInstanceCount?: number;
}

/** What cancelling on a quote costs: Σ hours × count × rate, exact. A term without its numbers is unreadable, not free. */
export function cancellationCharge(rate: OnDemandRate, terms: readonly CancellationTerm[]): ExactDecimal {
  return terms.reduce<ExactDecimal>((sum, term) => {
    const { ChargeCommitmentDurationHours: hours, CommittedInstanceCount: count } = term;
    if (hours === undefined || count === undefined) throw new Error('the cancellation quote has a term without ChargeCommitmentDurationHours or CommittedInstanceCount; its charge cannot be known, so nothing is cancelled');
    return addDecimals(sum, multiplyDecimals(readRate(rate), wholeDecimal(count), wholeDecimal(hours)));
  }, wholeDecimal(0));
}

/** Whether `amount` is within a ceiling given as plain decimal text (exact; equal is within). */
export function withinCeiling(amount: ExactDecimal, ceilingText: string): boolean {
  const ceiling = readDecimal(ceilingText);
  if (!ceiling) throw new Error(`ceiling '${ceilingText}' is not a plain decimal`);
  return compareDecimals(amount, ceiling) <= 0;
}

/** For messages and attributes: cents, rounded up. */
export function moneyText(amount: ExactDecimal, currency: string): string {
  return `${toMoneyText(amount)} ${currency}`;
}

function readRate(rate: OnDemandRate): ExactDecimal {
  const value = readDecimal(rate.perInstanceHour);
  if (!value) throw new Error(`rate '${rate.perInstanceHour}' is not a plain decimal`);
  return value;
}

/** The parts of a Price List product document this module reads. */
interface PriceListProduct {
  readonly product?: { readonly sku?: string; readonly attributes?: Record<string, string> };
  readonly terms?: {
    readonly OnDemand?: Record<string, {
      readonly sku?: string;
      readonly priceDimensions?: Record<string, { readonly unit?: string; readonly pricePerUnit?: Record<string, string> }>;
    }>;
  };
}
