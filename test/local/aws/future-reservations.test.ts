import {
  CancelCapacityReservationCommand, CreateCapacityReservationCancellationQuoteCommand, CreateCapacityReservationCommand, CreateCapacityReservationCommandInput,
  CreateCapacityReservationDateChangeQuoteCommand, DescribeCapacityReservationsCommand, EC2Client, ModifyCapacityReservationCommand,
} from '@aws-sdk/client-ec2';
import { XMLParser } from 'fast-xml-parser';
import { cancellationCharge, moneyText } from '../../../lib/aws/future-reservation/price';
import { Ec2Emulator } from '../../../lib/local/aws/ec2-emulator';
import { answerElementsNotInModel, enumValuesNotInModel, requestParameterInModel } from './ec2-model';

const DAY = 86_400_000;

describe('future-dated Capacity Reservations in the EC2 emulator, through @aws-sdk/client-ec2', () => {
  const emulator = new Ec2Emulator({ futureReservations: { assessmentMs: 3 * DAY, outcome: r => (r.instanceCount === 7 ? 'unsupported' : r.instanceCount === 9 ? 'delayed' : 'scheduled') } });
  let ec2: EC2Client;
  beforeAll(async () => {
    ec2 = new EC2Client({ endpoint: await emulator.start(), region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  });
  afterAll(() => emulator.stop());

  const request = (over: Partial<CreateCapacityReservationCommandInput> = {}): CreateCapacityReservationCommandInput => ({
    InstanceType: 'm7i.8xlarge', InstancePlatform: 'Linux/UNIX', AvailabilityZone: 'us-east-1a', InstanceCount: 4,
    StartDate: new Date(emulator.clock.now().getTime() + 60 * DAY), CommitmentDuration: 14 * 86_400, DeliveryPreference: 'incremental',
    InstanceMatchCriteria: 'targeted', EndDateType: 'unlimited',
    TagSpecifications: [{ ResourceType: 'capacity-reservation', Tags: [{ Key: 'team', Value: 'ml' }] }], ...over,
  });
  const describe = async (id: string) => (await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }))).CapacityReservations![0];

  test('GIVEN a request WHEN EC2 takes it THEN it is assessing, counts no instances, and shows its start, commitment and delivery preference', async () => {
    const created = (await ec2.send(new CreateCapacityReservationCommand(request({ ClientToken: 'token-a' })))).CapacityReservation!;
    expect(created).toMatchObject({ State: 'assessing', TotalInstanceCount: 0, DeliveryPreference: 'incremental', ReservationType: 'default', InstanceMatchCriteria: 'targeted', Tags: [{ Key: 'team', Value: 'ml' }] });
    expect(created.CommitmentInfo).toEqual({ CommittedInstanceCount: 4, CommitmentEndDate: new Date(created.StartDate!.getTime() + 14 * DAY) });
    expect(created.OriginalStartDate).toEqual(created.StartDate);
  });

  test('GIVEN the same ClientToken WHEN asked again THEN the same reservation; with other parameters THEN IdempotentParameterMismatch', async () => {
    const first = emulator.future.requests.find(r => r.clientToken === 'token-a')!;
    const again = (await ec2.send(new CreateCapacityReservationCommand({ ...request({ ClientToken: 'token-a' }), StartDate: first.startDate }))).CapacityReservation!;
    expect(again.CapacityReservationId).toBe(first.id);
    await expect(ec2.send(new CreateCapacityReservationCommand({ ...request({ ClientToken: 'token-a', InstanceCount: 8 }), StartDate: first.startDate }))).rejects.toMatchObject({ name: 'IdempotentParameterMismatch' });
    expect(emulator.future.requests.filter(r => r.clientToken === 'token-a')).toHaveLength(1);
  });

  test.each([
    ['a family EC2 does not take', { InstanceType: 'p5.48xlarge' }, /not in a family/],
    ['under 32 vCPUs', { InstanceType: 'm7i.2xlarge', InstanceCount: 3 }, /at least 32/],
    ['a start 3 days ahead', { StartDate: new Date(Date.now() + 3 * DAY) }, /5 to 120 days ahead/],
    ['a 7-day commitment', { CommitmentDuration: 7 * 86_400 }, /at least 14 days/],
    ['open matching', { InstanceMatchCriteria: 'open' as const }, /targeted/],
  ])('refuses %s, and requests nothing', async (_what, over, message) => {
    const before = emulator.future.requests.length;
    await expect(ec2.send(new CreateCapacityReservationCommand(request(over)))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringMatching(message) });
    expect(emulator.future.requests).toHaveLength(before);
  });

  test('GIVEN an assessing request WHEN cancelled THEN free: no quote needed', async () => {
    const { CapacityReservationId: id } = (await ec2.send(new CreateCapacityReservationCommand(request()))).CapacityReservation!;
    await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id }));
    expect((await describe(id!)).State).toBe('cancelled');
  });

  test('GIVEN a scheduled reservation WHEN cancelled without a quote THEN refused; with an active quote and wind-down THEN cancelling until the commitment ends, at the quoted hours × count', async () => {
    const { CapacityReservationId: id } = (await ec2.send(new CreateCapacityReservationCommand(request()))).CapacityReservation!;
    emulator.clock.advance(4 * DAY);
    expect((await describe(id!)).State).toBe('scheduled');
    await expect(ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id }))).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    const quote = (await ec2.send(new CreateCapacityReservationCancellationQuoteCommand({ CapacityReservationId: id }))).CapacityReservationCancellationQuote!;
    expect(quote).toMatchObject({ QuoteState: 'active', CurrentConfiguration: { InstanceCount: 0, ReservationState: 'scheduled' } });
    expect(quote.CancellationTerms).toEqual([expect.objectContaining({ CancellationType: 'commitment-wind-down', CommittedInstanceCount: 4, ChargeCommitmentDurationHours: 336 })]);
    expect(moneyText(cancellationCharge({ perInstanceHour: '1.6128', currency: 'USD', sku: 's', candidates: 1 }, quote.CancellationTerms!), 'USD')).toBe('2167.61 USD');
    await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id, QuoteId: quote.CapacityReservationCancellationQuoteId, ApplyCancellationCharges: 'commitment-wind-down' }));
    expect((await describe(id!)).State).toBe('cancelling');
    await expect(ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id, QuoteId: quote.CapacityReservationCancellationQuoteId, ApplyCancellationCharges: 'commitment-wind-down' })))
      .rejects.toMatchObject({ name: 'IncorrectState' });
  });

  test('GIVEN a scheduled reservation WHEN its start is pushed out by a date-change quote THEN the start moves once, within 30 days of the original', async () => {
    const { CapacityReservationId: id, StartDate: start } = (await ec2.send(new CreateCapacityReservationCommand(request()))).CapacityReservation!;
    await expect(ec2.send(new CreateCapacityReservationDateChangeQuoteCommand({ CapacityReservationId: id, NewStartDate: new Date(start!.getTime() + 31 * DAY) }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const later = new Date(start!.getTime() + 10 * DAY);
    const quote = (await ec2.send(new CreateCapacityReservationDateChangeQuoteCommand({ CapacityReservationId: id, NewStartDate: later }))).CapacityReservationModificationQuote!;
    expect(quote.ModificationTerms?.ReservationUpdate).toMatchObject({ NewStartDate: later, NewCommitmentDuration: 14 * 86_400 });
    await expect(ec2.send(new ModifyCapacityReservationCommand({ CapacityReservationId: id, StartDate: later }))).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    await ec2.send(new ModifyCapacityReservationCommand({ CapacityReservationId: id, StartDate: later, QuoteId: quote.CapacityReservationModificationQuoteId, AcceptModificationTerms: true }));
    const moved = await describe(id!);
    expect(moved.StartDate).toEqual(later);
    expect(moved.OriginalStartDate).toEqual(start);
  });

  test('over simulated days: scheduled until the start, then active with its instances; unsupported and delayed as assessed (a delayed one has no commitment)', async () => {
    const { CapacityReservationId: id, StartDate: start } = (await ec2.send(new CreateCapacityReservationCommand(request()))).CapacityReservation!;
    const { CapacityReservationId: unsupported } = (await ec2.send(new CreateCapacityReservationCommand(request({ InstanceCount: 7 })))).CapacityReservation!;
    const { CapacityReservationId: delayed } = (await ec2.send(new CreateCapacityReservationCommand(request({ InstanceCount: 9 })))).CapacityReservation!;
    emulator.clock.advance(4 * DAY);
    expect((await describe(unsupported!)).State).toBe('unsupported');
    const late = await describe(delayed!);
    expect(late.State).toBe('delayed');
    expect(late.CommitmentInfo).toBeUndefined();
    emulator.clock.advance(start!.getTime() - emulator.clock.now().getTime());
    expect(await describe(id!)).toMatchObject({ State: 'active', TotalInstanceCount: 4, AvailableInstanceCount: 4 });
    // Free again after the commitment: no quote needed.
    emulator.clock.advance(14 * DAY);
    await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id }));
    expect((await describe(id!)).State).toBe('cancelled');
  });

  test('every request parameter read and every answer element sent is in the EC2 model; states are ones the model lists', () => {
    const parse = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });
    const actions = ['CreateCapacityReservation', 'CancelCapacityReservation', 'CreateCapacityReservationCancellationQuote', 'CreateCapacityReservationDateChangeQuote', 'ModifyCapacityReservation', 'DescribeCapacityReservations'];
    expect([...emulator.parametersRead.keys()]).toEqual(expect.arrayContaining(actions));
    const problems = [
      ...[...emulator.parametersRead].flatMap(([action, keys]) => [...keys].map(key => requestParameterInModel(action, key)).filter(Boolean)),
      ...emulator.answers.flatMap(a => {
        const body = parse.parse(a.body)[`${a.action}Response`];
        return [...answerElementsNotInModel(a.action, body), ...enumValuesNotInModel(a.action, body)];
      }),
    ];
    expect(problems).toEqual([]);
  });
});
