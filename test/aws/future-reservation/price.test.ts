import { cancellationCharge, commitmentCost, moneyText, onDemandRate, priceListFilters, priceListRegionFor, PRICED_PLATFORMS, withinCeiling } from '../../../lib/aws/future-reservation/price';
import { CapacityReservationInstancePlatform } from '@aws-sdk/client-ec2';
import { toExactText } from '../../../lib/shared/decimal';

/** A Price List product document, as GetProducts sends it (a JSON string), with one hourly On-Demand rate. */
function product(sku: string, usd: string | undefined, unit = 'Hrs'): string {
  return JSON.stringify({
    product: { sku, attributes: { instanceType: 'm7i.8xlarge' } },
    terms: {
      OnDemand: { [`${sku}.JRTCKXETXF`]: { priceDimensions: { [`${sku}.JRTCKXETXF.6YS6EN2CT7`]: { unit, pricePerUnit: usd === undefined ? { CNY: '1.0' } : { USD: usd } } } } },
      Reserved: { [`${sku}.R`]: { priceDimensions: { d: { unit: 'Quantity', pricePerUnit: { USD: '99999.00' } } } } },
    },
  });
}

const rate = (perInstanceHour: string) => ({ perInstanceHour, currency: 'USD', sku: 'SKU', candidates: 1 });

describe('the On-Demand rate of a future-dated reservation', () => {
  test('GIVEN one product WHEN read THEN its hourly On-Demand rate, exactly as written; Reserved terms are ignored', () => {
    expect(onDemandRate([product('A', '1.6128000000')], 'USD', 'm7i.8xlarge')).toEqual({ perInstanceHour: '1.6128000000', currency: 'USD', sku: 'A', candidates: 1 });
  });

  test('GIVEN several products answer WHEN read THEN the highest rate, so a ceiling is never checked against less than EC2 may bill', () => {
    expect(onDemandRate([product('A', '1.5'), product('B', '1.6128000000'), product('C', '1.6127999999')], 'USD', 'x').sku).toBe('B');
  });

  test('fails when no product has an hourly rate in the currency, naming what was asked and what to check', () => {
    expect(() => onDemandRate([product('A', undefined), product('B', '2', 'Quantity')], 'USD', 'm7i.8xlarge in us-east-1'))
      .toThrow(/no hourly On-Demand rate in USD for m7i.8xlarge in us-east-1 \(2 product\(s\) answered\); check instanceType/);
  });

  test('fails on a rate that is not a plain decimal: nothing is requested on a guess', () => {
    expect(() => onDemandRate([product('A', '1e3')], 'USD', 'x')).toThrow(/no hourly On-Demand rate/);
  });
});

describe('the commitment cost', () => {
  test('GIVEN 4 × 1.6128/h for 14 days WHEN costed THEN rate × count × 336 h, exact', () => {
    expect(toExactText(commitmentCost(rate('1.6128000000'), 4, 14 * 86_400))).toBe('2167.6032');
  });

  test('GIVEN a commitment that is not whole hours WHEN costed THEN rounded up, never understated', () => {
    const cost = commitmentCost(rate('1'), 1, 14 * 86_400 + 1);
    expect(withinCeiling(cost, '336.000277')).toBe(false);
    expect(withinCeiling(cost, '336.000278')).toBe(true);
  });

  test('GIVEN a ceiling equal to the cost WHEN checked THEN within; one cent less THEN not (exact decimal, no float)', () => {
    const cost = commitmentCost(rate('0.1'), 3, 3600);
    expect(toExactText(cost)).toBe('0.3'); // 0.1 * 3 is 0.30000000000000004 in floating point
    expect(withinCeiling(cost, '0.3')).toBe(true);
    expect(withinCeiling(cost, '0.29')).toBe(false);
  });

  test('a cancellation quote costs Σ hours × committed count × rate', () => {
    const charge = cancellationCharge(rate('2.5'), [{ ChargeCommitmentDurationHours: 100, CommittedInstanceCount: 4 }, { ChargeCommitmentDurationHours: 3, CommittedInstanceCount: 1 }]);
    expect(moneyText(charge, 'USD')).toBe('1007.50 USD');
  });

  test('fails on a quote term without its numbers: unreadable is not free', () => {
    expect(() => cancellationCharge(rate('2.5'), [{ ChargeCommitmentDurationHours: 100 }])).toThrow(/cannot be known, so nothing is cancelled/);
  });

  test('money shown is rounded up to cents', () => {
    expect(moneyText(commitmentCost(rate('0.0011'), 1, 3600), 'USD')).toBe('0.01 USD');
  });
});

describe('the Price List query', () => {
  test('filters pin one product: type, region, OS, software, tenancy, capacity status and licence', () => {
    expect(priceListFilters({ instanceType: 'm7i.8xlarge', region: 'eu-west-1', instancePlatform: 'Windows', tenancy: 'dedicated' })).toEqual([
      { Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm7i.8xlarge' },
      { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'eu-west-1' },
      { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Windows' },
      { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
      { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Dedicated' },
      { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
      { Type: 'TERM_MATCH', Field: 'licenseModel', Value: 'No License required' },
    ]);
  });

  test('every platform it prices is one EC2 names for Capacity Reservations', () => {
    const ec2Platforms: string[] = Object.values(CapacityReservationInstancePlatform);
    expect(PRICED_PLATFORMS.filter(p => !ec2Platforms.includes(p))).toEqual([]);
  });

  test('fails on a platform it cannot price, listing those it can', () => {
    expect(() => priceListFilters({ instanceType: 'm7i.8xlarge', region: 'us-east-1', instancePlatform: 'RHEL with HA', tenancy: 'default' }))
      .toThrow(/instancePlatform 'RHEL with HA' has no Price List name this release knows \(Linux\/UNIX, /);
  });

  test.each([['us-west-2', 'us-east-1'], ['eu-west-3', 'eu-central-1'], ['ap-northeast-1', 'ap-south-1'], ['sa-east-1', 'us-east-1']])(
    'the Price List endpoint for %s is %s (it exists in three regions only)', (region, endpoint) => {
      expect(priceListRegionFor(region)).toBe(endpoint);
    });
});
