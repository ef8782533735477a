import * as pricing from '@aws-sdk/client-pricing';
import { GetProductsCommand, paginateGetProducts, PricingClient } from '@aws-sdk/client-pricing';
import { commitmentCost, moneyText, onDemandRate, priceListFilters } from '../../../lib/aws/future-reservation/price';
import { PricingEmulator } from '../../../lib/local/aws/pricing-emulator';
import { jsonProtocolModel } from './json-protocol-model';

const model = jsonProtocolModel(pricing, { packageName: '@aws-sdk/client-pricing', enums: { Type: pricing.FilterType } });

describe('the Price List emulator, through @aws-sdk/client-pricing', () => {
  const emulator = new PricingEmulator({ rates: { 'm7i.8xlarge': '1.6128000000' } });
  let client: PricingClient;
  beforeAll(async () => {
    client = new PricingClient({ endpoint: await emulator.start(), region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  });
  afterAll(() => emulator.stop());

  test('GIVEN the filters the handler sends WHEN asked THEN one product, whose rate reads exactly', async () => {
    const answer = await client.send(new GetProductsCommand({
      ServiceCode: 'AmazonEC2', FormatVersion: 'aws_v1',
      Filters: priceListFilters({ instanceType: 'm7i.8xlarge', region: 'us-east-1', instancePlatform: 'Linux/UNIX', tenancy: 'default' }),
    }));
    expect(answer.PriceList).toHaveLength(1);
    const rate = onDemandRate(answer.PriceList as string[], 'USD', 'm7i.8xlarge');
    expect(rate.perInstanceHour).toBe('1.6128000000');
    expect(moneyText(commitmentCost(rate, 4, 14 * 86_400), 'USD')).toBe('2167.61 USD');
  });

  test('GIVEN no capacitystatus filter WHEN asked THEN several products answer, as the real Price List does', async () => {
    const answer = await client.send(new GetProductsCommand({
      ServiceCode: 'AmazonEC2',
      Filters: priceListFilters({ instanceType: 'm7i.8xlarge', region: 'us-east-1', instancePlatform: 'Linux/UNIX', tenancy: 'default' }).filter(f => f.Field !== 'capacitystatus'),
    }));
    expect(answer.PriceList).toHaveLength(3);
  });

  test('pages follow NextToken', async () => {
    let products = 0;
    for await (const page of paginateGetProducts({ client, pageSize: 7 }, { ServiceCode: 'AmazonEC2', Filters: [{ Type: 'TERM_MATCH', Field: 'instanceType', Value: 'c7g.16xlarge' }, { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' }] })) {
      products += page.PriceList?.length ?? 0;
    }
    expect(products).toBe(48); // 6 platforms × 2 tenancies × 3 capacity statuses, and Windows twice (its BYOL licence)
  });

  test('a burst of throttling answers ThrottlingException each time', async () => {
    emulator.failNext('GetProducts', 'throttle', 2);
    const ask = () => client.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: [{ Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm7i.8xlarge' }] }));
    await expect(ask()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(ask()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(ask()).resolves.toBeDefined();
  });

  test('every key the emulator read and every answer it sent is in the SDK model', () => {
    const problems = [
      ...[...emulator.parametersRead].flatMap(([action, keys]) => [...keys].map(key => model.requestKeyInModel(action, key)).filter(Boolean)),
      ...emulator.answers.flatMap(a => model.answerKeysNotInModel(a.action, a.body)),
    ];
    expect(emulator.answers.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
