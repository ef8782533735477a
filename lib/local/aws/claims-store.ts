import { randomUUID } from 'crypto';
import { request as httpRequest } from 'http';
import { AddressInfo } from 'net';
import type * as DynamoDB from '@aws-sdk/client-dynamodb';
import { LoopbackServer, RawRequest, RawResponse } from '../http-server';
import { requireAwsRehearsalModules } from '../modules';

/**
 * A real DynamoDB implementation on 127.0.0.1 (dynalite, in memory) holding the purchase-claims
 * table exactly as the provider defines it (partition key `id`), so the handler's claims run through
 * Powertools and the real SDK client, conditional writes included.
 */
export class ClaimsStore {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_DYNAMODB (a fault-injecting front of dynalite). */
  public endpoint = '';
  /** Writes refused by failNextWrites so far. */
  public writesRefused = 0;
  private server?: { listen: (port: number, host: string, cb: () => void) => void; close: (cb: () => void) => void; address: () => AddressInfo | string | null };
  private readonly front = new LoopbackServer(request => this.forward(request));
  private backend = '';
  private refuseWrites: Array<{ keyPrefix: string; containing: string }> = [];

  /**
   * The next `count` PutItem calls for an item whose key starts with `keyPrefix` (the resource
   * ledgers: 'ledger#') and whose text contains `containing` are refused as throttled. The SDK tries a
   * call 4 times: a burst of 4 fails one write, as DynamoDB throttling can.
   */
  public failNextWrites(count: number, keyPrefix = 'ledger#', containing = ''): void {
    for (let i = 0; i < count; i++) this.refuseWrites.push({ keyPrefix, containing });
  }

  public async start(): Promise<string> {
    requireAwsRehearsalModules('the purchase-claims store');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
    const dynalite = require('dynalite') as (options: object) => NonNullable<ClaimsStore['server']>;
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.backend = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.endpoint = `http://${await this.front.start()}`;
    return this.endpoint;
  }

  private async forward(request: RawRequest): Promise<RawResponse> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const refuse = this.refuseWrites[0];
    if (refuse && target.endsWith('.PutItem') && (JSON.parse(request.body || '{}').Item?.id?.S ?? '').startsWith(refuse.keyPrefix) && request.body.includes(refuse.containing.replace(/"/g, '\\"'))) {
      this.refuseWrites.shift();
      this.writesRefused++;
      return { status: 400, contentType: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' }) };
    }
    const [host, port] = this.backend.split(':');
    return new Promise((resolve, reject) => {
      const headers = { ...request.headers, host: this.backend };
      const req = httpRequest({ host, port: Number(port), method: request.method, path: `${request.url.pathname}${request.url.search}`, headers }, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, contentType: String(res.headers['content-type'] ?? 'application/x-amz-json-1.0'), body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(request.body);
    });
  }

  /** A fresh, empty claims table (one per stack in AWS); returns its name. */
  public async newTable(): Promise<string> {
    // Unique in the process: the handler keeps one DynamoDB client per table name.
    const name = `capacity-block-claims-${randomUUID()}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's install, checked in start()
    const { CreateTableCommand, DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof DynamoDB;
    const client = new DynamoDBClient({ endpoint: this.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      await client.send(new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
    } finally {
      client.destroy();
    }
    return name;
  }

  public async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await this.front.stop();
    if (server) await new Promise<void>(resolve => server.close(() => resolve()));
  }
}
