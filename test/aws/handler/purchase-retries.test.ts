import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { PurchaseCapacityBlockCommand } from '@aws-sdk/client-ec2';

/**
 * Through the real SDK over HTTP on 127.0.0.1: a purchase whose answer is a 5xx is sent once (it
 * may have happened), while throttling is retried (EC2 refused before acting).
 */
let server: Server;
let requests = 0;
let answer: { status: number; code: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(answer.status, { 'content-type': 'text/xml' });
      res.end(`<Response><Errors><Error><Code>${answer.code}</Code><Message>test</Message></Error></Errors><RequestID>r</RequestID></Response>`);
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EC2: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-2',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});
afterAll(() => new Promise(resolve => server.close(resolve)));
beforeEach(() => { requests = 0; });

async function purchase(): Promise<unknown> {
  // Imported after the environment is set: the client resolves its endpoint from AWS_ENDPOINT_URL_EC2.
  const { ec2Purchases, retryPolicy } = await import('../../../lib/aws/handler/ec2');
  retryPolicy.waitBackoff = false; // the decisions are the SDK's; only its waits are skipped
  return ec2Purchases.send(new PurchaseCapacityBlockCommand({ CapacityBlockOfferingId: 'cb-0a', InstancePlatform: 'Linux/UNIX' })).catch(e => e);
}

test('a 5xx purchase answer is not retried by the SDK', async () => {
  answer = { status: 503, code: 'InternalError' };
  expect(await purchase()).toMatchObject({ name: 'InternalError' });
  expect(requests).toBe(1);
});

test('a throttled purchase is retried by the SDK, up to its attempt limit', async () => {
  answer = { status: 503, code: 'RequestLimitExceeded' };
  expect(await purchase()).toMatchObject({ name: 'RequestLimitExceeded' });
  expect(requests).toBe(4);
});

test('every EC2 call carries a request timeout: a hung purchase answer fails instead of holding the Lambda', async () => {
  const hung = createServer(req => req.resume()); // reads the request, never answers
  await new Promise<void>(resolve => hung.listen(0, '127.0.0.1', resolve));
  const endpoint = process.env.AWS_ENDPOINT_URL_EC2;
  try {
    await jest.isolateModulesAsync(async () => {
      // A fresh copy of the handler's clients, resolving their endpoint to the silent server.
      process.env.AWS_ENDPOINT_URL_EC2 = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const { timeouts } = await import('../../../lib/aws/handler/budget');
      const { ec2Purchases, ec2CallOptions } = await import('../../../lib/aws/handler/ec2');
      timeouts.ec2RequestMs = 200;
      const started = Date.now();
      const error = await ec2Purchases.send(new PurchaseCapacityBlockCommand({ CapacityBlockOfferingId: 'cb-0a', InstancePlatform: 'Linux/UNIX' }), ec2CallOptions()).catch(e => e);
      expect(error).toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  } finally {
    process.env.AWS_ENDPOINT_URL_EC2 = endpoint;
    hung.closeAllConnections();
    await new Promise(resolve => hung.close(resolve));
  }
});
