import { decideDelete, decideOnQuote, decideUpdate, deleteOperationOf } from '../../../lib/aws/future-reservation/decisions';

const END = new Date('2027-03-01T00:00:00Z');
const facts = (over: Partial<Parameters<typeof decideDelete>[0]> = {}) => ({
  reservationId: 'cr-f1', state: 'scheduled', insideCommitment: true, operation: 'forward' as const, maxCancellationCharge: '5000', commitmentEnd: END, ...over,
});

describe('what a Delete does with a future-dated reservation', () => {
  test.each(['assessing', 'delayed'])('GIVEN it is %s WHEN deleted THEN cancelled, free of charge', state => {
    expect(decideDelete(facts({ state, insideCommitment: false }))).toEqual({ action: 'cancel-free' });
  });

  test('GIVEN it is active past its commitment WHEN deleted THEN cancelled free (it would bill until cancelled)', () => {
    expect(decideDelete(facts({ state: 'active', insideCommitment: false }))).toEqual({ action: 'cancel-free' });
  });

  test.each(['unsupported', 'failed', 'cancelling', 'cancelled', 'expired'])('GIVEN it is %s WHEN deleted THEN nothing to cancel', state => {
    expect(decideDelete(facts({ state, insideCommitment: false }))).toEqual({ action: 'none', note: `cr-f1 is ${state}: nothing to cancel` });
  });

  test('GIVEN inside its commitment and a ceiling WHEN the stack is deleted THEN a quote is asked for first', () => {
    expect(decideDelete(facts())).toEqual({ action: 'quote' });
  });

  test('GIVEN inside its commitment WHEN a rollback deletes it THEN kept: a rollback never pays, and the note says how to cancel by hand', () => {
    const d = decideDelete(facts({ operation: 'rollback' }));
    expect(d).toMatchObject({ action: 'keep' });
    expect((d as { note: string }).note).toMatch(/^Kept cr-f1 \(scheduled, inside its commitment until 2027-03-01T00:00:00\.000Z\): a rollback never pays a cancellation charge\. To cancel it by hand: aws ec2 create-capacity-reservation-cancellation-quote --capacity-reservation-id cr-f1/);
  });

  test('GIVEN the stack status could not be read WHEN deleted inside the commitment THEN kept, never paying on a guess', () => {
    expect(decideDelete(facts({ operation: 'unknown' }))).toMatchObject({ action: 'keep', note: expect.stringMatching(/could not be read/) });
  });

  test('GIVEN no maxCancellationCharge WHEN deleted inside the commitment THEN kept, saying why', () => {
    expect(decideDelete(facts({ maxCancellationCharge: undefined }))).toMatchObject({ action: 'keep', note: expect.stringMatching(/maxCancellationCharge is not set/) });
  });

  test('a quote within the ceiling (equal included) cancels with it; above, kept naming quote, charge and ceiling', () => {
    expect(decideOnQuote('cr-f1', 'crcq-1', { text: '5000.00', withinCeiling: true }, '5000', 'USD')).toEqual({ action: 'cancel-with-quote', quoteId: 'crcq-1' });
    expect(decideOnQuote('cr-f1', 'crcq-1', { text: '5000.01', withinCeiling: false }, '5000', 'USD')).toEqual({
      action: 'keep', note: expect.stringMatching(/^Kept cr-f1: cancelling costs 5000\.01 USD \(quote crcq-1, valid 24 hours\), above maxCancellationCharge 5000 USD\. To cancel it by hand/),
    });
  });

  test.each([
    ['DELETE_IN_PROGRESS', 'forward'], ['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'forward'],
    ['ROLLBACK_IN_PROGRESS', 'rollback'], ['UPDATE_ROLLBACK_IN_PROGRESS', 'rollback'], ['UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'rollback'],
    ['UPDATE_IN_PROGRESS', 'unknown'], ['DescribeStacks failed: Throttling', 'unknown'],
  ])('a Delete while the stack is %s is %s', (status, operation) => {
    expect(deleteOperationOf(status)).toBe(operation);
  });
});

describe('what an Update does with a future-dated reservation', () => {
  test('tags and ceilings change in place and touch nothing that costs', () => {
    expect(decideUpdate({ changed: ['Tags', 'MaxCommittedCost'], state: 'scheduled', allowRepurchase: false })).toEqual({ action: 'in-place', retag: true, moveStart: false });
  });

  test('a later start moves in place before delivery, and is refused once active', () => {
    expect(decideUpdate({ changed: ['StartDate'], state: 'assessing', allowRepurchase: false })).toEqual({ action: 'in-place', retag: false, moveStart: true });
    expect(decideUpdate({ changed: ['StartDate'], state: 'active', allowRepurchase: false })).toMatchObject({ action: 'refuse', message: expect.stringMatching(/startDate cannot change once the reservation is active/) });
  });

  test('fails for anything else without allowRepurchase, naming the props; with it, a new request', () => {
    expect(decideUpdate({ changed: ['InstanceCount', 'Tags'], state: 'scheduled', allowRepurchase: false })).toMatchObject({
      action: 'refuse', message: expect.stringMatching(/^instanceCount cannot change on a requested future-dated Capacity Reservation .*revert it, or set allowRepurchase/),
    });
    expect(decideUpdate({ changed: ['InstanceCount'], state: 'scheduled', allowRepurchase: true })).toEqual({ action: 'replace' });
  });
});
