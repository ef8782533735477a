import {
  commitmentError, endDateError, futureDatedFamilyError, moneyCeilingError, startDateChangeError, startDateError, startDateWarning,
  totalVcpusError, vcpusBySize,
} from '../../../lib/aws/future-reservation/rules';

const NOW = new Date('2026-12-08T00:00:00Z');
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000);

describe('what EC2 takes in a future-dated Capacity Reservation', () => {
  test.each(['m7i.8xlarge', 'c7g.16xlarge', 'g6.12xlarge', 'i4i.8xlarge', 'r8g.8xlarge', 't3.2xlarge', 'c5n.18xlarge', 'g4dn.12xlarge'])(
    '%s is in the C, G, I, M, R or T families', type => {
      expect(futureDatedFamilyError(type)).toBeUndefined();
    });

  test.each(['p5.48xlarge', 'trn1.32xlarge', 'inf2.48xlarge', 'mac2.metal', 'hpc7g.16xlarge', 'x2idn.32xlarge', 'im4gn.8xlarge'])(
    'fails for %s: another family, even where it starts with one of those letters', type => {
      expect(futureDatedFamilyError(type)).toMatch(new RegExp(`instanceType ${type.replace('.', '\\.')} is not in a family EC2 takes future-dated Capacity Reservations for \\(C, G, I, M, R, T`));
    });

  test.each([['m7i.large', 2], ['m7i.xlarge', 4], ['m7i.8xlarge', 32], ['t3.micro', 2], ['c7g.metal', undefined]])('%s has %s vCPUs by its size', (type, vcpus) => {
    expect(vcpusBySize(type as string)).toBe(vcpus);
  });

  test('fails under 32 vCPUs in total, saying how many instances would do', () => {
    expect(totalVcpusError('m7i.2xlarge', 3, 8)).toBe('instanceCount 3 × m7i.2xlarge (8 vCPUs) is 24 vCPUs; a future-dated Capacity Reservation needs at least 32: set instanceCount to 4 or more, or choose a larger size');
    expect(totalVcpusError('m7i.2xlarge', 4, 8)).toBeUndefined();
    expect(totalVcpusError('c7g.metal', 1, undefined)).toBeUndefined();
  });

  test.each([[5, undefined], [120, undefined], [4.9, /is 4\.9 days from now; .* start 5 to 120 days ahead: move it to 2026-12-13T00:00:00\.000Z or later/], [121, /at most 120 days ahead: deploy on or after 2026-12-09/]])(
    'a start %s days ahead: %s', (n, expected) => {
      const error = startDateError(days(n as number), NOW);
      if (expected === undefined) expect(error).toBeUndefined();
      else expect(error).toMatch(expected as RegExp);
    });

  test('a start under 56 days ahead is allowed but warned about', () => {
    expect(startDateWarning(days(30), NOW)).toMatch(/EC2 recommends requesting 56 days or more ahead/);
    expect(startDateWarning(days(56), NOW)).toBeUndefined();
  });

  test('fails for a commitment under 14 days or not in whole seconds', () => {
    expect(commitmentError(14 * 86_400)).toBeUndefined();
    expect(commitmentError(13 * 86_400)).toMatch(/commitment must be at least 14 days in whole seconds .*, got 13 days/);
    expect(commitmentError(14 * 86_400 + 0.5)).toMatch(/commitment must be at least 14 days/);
  });

  test('fails for an end date inside the commitment, naming when the commitment ends', () => {
    expect(endDateError(days(70), days(60), 14 * 86_400)).toMatch(/endDate .* falls inside the commitment, which runs from startDate to 2027-02-20T00:00:00\.000Z; move endDate to 2027-02-20T00:00:00\.000Z or later/);
    expect(endDateError(days(74), days(60), 14 * 86_400)).toBeUndefined();
    expect(endDateError(undefined, days(60), 14 * 86_400)).toBeUndefined();
  });

  test('a start may only be pushed out, by at most 30 days from the original', () => {
    expect(startDateChangeError(days(60), days(60), days(90))).toBeUndefined();
    expect(startDateChangeError(days(60), days(70), days(65))).toMatch(/startDate can only move later once requested/);
    expect(startDateChangeError(days(60), days(70), days(91))).toMatch(/more than 30 days after the original start .*; choose 2027-03-08T00:00:00\.000Z or earlier, or set allowRepurchase/);
  });

  test('a money ceiling is a plain positive decimal the template carries as written', () => {
    expect(moneyCeilingError('maxCommittedCost', 250000)).toBeUndefined();
    expect(moneyCeilingError('maxCommittedCost', 0)).toMatch(/must be a positive number/);
    expect(moneyCeilingError('maxCancellationCharge', 0, true)).toBeUndefined();
    expect(moneyCeilingError('maxCommittedCost', 1e21)).toMatch(/plain decimal amount .* '1e\+21'/);
  });
});
