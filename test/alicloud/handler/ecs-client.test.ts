import { createServer, IncomingHttpHeaders, Server } from 'http';
import { AddressInfo } from 'net';
import { createEcsCall, ramPropagationPolicy, retryPolicy } from '../../../lib/alicloud/handler/ecs';

/** Through the official OpenAPI client over HTTP on 127.0.0.1: endpoint override, signing, retries. */
let server: Server;
let seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }>;
let answers: Array<{ status: number; body: object }>;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', c => { body += c; });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      const answer = answers.shift() ?? { status: 200, body: { RequestId: 'r' } };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  process.env.ALIBABA_CLOUD_ECS_ENDPOINT = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.ALIBABA_CLOUD_ECS_PROTOCOL = 'http';
  retryPolicy.backoff = { policy: 'no', period: 0 };
  Object.assign(ramPropagationPolicy, { retryForMs: 200, intervalMs: 20 });
});
afterAll(() => new Promise(resolve => server.close(resolve)));
beforeEach(() => { seen = []; answers = []; jest.spyOn(console, 'log').mockImplementation(() => undefined); });

const call = () => createEcsCall({ accessKeyId: 'LTAIlocal', accessKeySecret: 'secret', securityToken: 'sts' }, 'cn-hangzhou');

test('calls the endpoint named by ALIBABA_CLOUD_ECS_ENDPOINT, signed with ACS3-HMAC-SHA256, with RPC parameters flattened', async () => {
  answers.push({ status: 200, body: { PrivatePoolOptionsId: 'crp-1', RequestId: 'r' } });
  const body = await call()('CreateCapacityReservation', { ZoneId: ['cn-hangzhou-h'], Tag: [{ Key: 'team', Value: 'ml' }], PrivatePoolOptions: { Name: 'pool' } });
  expect(body.PrivatePoolOptionsId).toBe('crp-1');
  const [request] = seen;
  expect(request.headers['x-acs-action']).toBe('CreateCapacityReservation');
  expect(request.headers['x-acs-version']).toBe('2014-05-26');
  expect(request.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAIlocal,SignedHeaders=.*,Signature=[0-9a-f]{64}$/);
  expect(request.headers['x-acs-security-token']).toBe('sts');
  const query = new URLSearchParams(request.url.split('?')[1]);
  expect(Object.fromEntries(query)).toMatchObject({ 'RegionId': 'cn-hangzhou', 'ZoneId.1': 'cn-hangzhou-h', 'Tag.1.Key': 'team', 'Tag.1.Value': 'ml', 'PrivatePoolOptions.Name': 'pool' });
});

test('throttling is retried, then succeeds', async () => {
  answers.push({ status: 400, body: { Code: 'Throttling.User', Message: 'slow down' } }, { status: 200, body: { RequestId: 'r' } });
  await call()('DescribeCapacityReservations', {});
  expect(seen).toHaveLength(2);
});

test('a dropped connection is retried', async () => {
  let dropped = false;
  server.prependOnceListener('request', req => { dropped = true; req.socket.destroy(); });
  await call()('DescribeCapacityReservations', {});
  expect(dropped).toBe(true);
  expect(seen.length).toBeGreaterThanOrEqual(1);
});

test('a definite ECS error is not retried and keeps its code', async () => {
  answers.push({ status: 403, body: { Code: 'OperationDenied.NoStock', Message: 'no stock' } });
  await expect(call()('CreateCapacityReservation', {})).rejects.toMatchObject({ code: 'OperationDenied.NoStock' });
  expect(seen).toHaveLength(1);
});

test.each(['Forbidden.RAM', 'NoPermission'])('%s right after the role was created is retried while RAM propagates, then succeeds', async code => {
  answers.push({ status: 403, body: { Code: code, Message: 'denied' } }, { status: 403, body: { Code: code, Message: 'denied' } }, { status: 200, body: { RequestId: 'r' } });
  await call()('DescribeCapacityReservations', {});
  expect(seen).toHaveLength(3);
});

test('a permission that stays missing fails once the propagation time is over, keeping its code', async () => {
  for (let i = 0; i < 50; i++) answers.push({ status: 403, body: { Code: 'Forbidden.RAM', Message: 'denied' } });
  await expect(call()('ReleaseCapacityReservation', {})).rejects.toMatchObject({ code: 'Forbidden.RAM' });
  expect(seen.length).toBeGreaterThan(2);
  expect(seen.length).toBeLessThan(20);
});
