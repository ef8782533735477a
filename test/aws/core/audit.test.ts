import { AUDIT_EVENT_SOURCE, announceMoneyMove, MoneyMoveDetail } from '../../../lib/aws/core/audit';
import { retryPolicy } from '../../../lib/aws/handler/retries';
import { EventBridgeApi } from '../../../lib/local/aws/eventbridge';

const DETAIL: MoneyMoveDetail = {
  product: 'capacity-block', ids: ['cr-0123456789abcdef0', 'cb-0123456789abcdef0'], offeringId: 'cb-0aaa', fee: '6218.88', currency: 'USD',
  start: '2027-01-04T11:30:00.000Z', end: '2027-01-06T11:30:00.000Z', stack: 'Training', logicalId: 'Block',
  learnedFrom: 'answer',
};

describe('the audit trail of money', () => {
  const bus = new EventBridgeApi();
  const saved = { ...process.env };
  let logged: string[] = [];
  beforeAll(async () => {
    Object.assign(process.env, { AWS_ENDPOINT_URL_EVENTBRIDGE: await bus.start(), AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    retryPolicy.waitBackoff = false;
  });
  beforeEach(() => {
    logged = [];
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { logged.push(args.map(String).join(' ')); });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    process.env = saved;
    retryPolicy.waitBackoff = true;
    await bus.stop();
  });

  test('GIVEN a purchase that moved money WHEN announced THEN one event on the default bus, with everything finance matches the bill with', async () => {
    await announceMoneyMove('Capacity Block Purchased', DETAIL);
    expect(bus.events).toEqual([{ source: AUDIT_EVENT_SOURCE, detailType: 'Capacity Block Purchased', detail: { ...DETAIL }, resources: [], eventBusName: 'default' }]);
  });

  test('GIVEN EventBridge throttles every attempt WHEN announced THEN it never throws: the purchase stands, and the log keeps what the event would have said', async () => {
    bus.failNext('throttle', retryPolicy.maxAttempts);
    await expect(announceMoneyMove('Training Plan Purchased', { ...DETAIL, product: 'training-plan', ids: ['arn:aws:sagemaker:us-east-1:123456789012:training-plan/p'] })).resolves.toBeUndefined();
    expect(logged.join('\n')).toMatch(/could not publish the audit event Training Plan Purchased; the purchase stands.*6218\.88/);
  });
});
