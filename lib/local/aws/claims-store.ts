import { randomUUID } from 'crypto';
import { AddressInfo } from 'net';
import type * as DynamoDB from '@aws-sdk/client-dynamodb';
import { requireAwsRehearsalModules } from '../modules';

/**
 * A real DynamoDB implementation on 127.0.0.1 (dynalite, in memory) holding the purchase-claims
 * table exactly as the provider defines it (partition key `id`), so the handler's claims run through
 * Powertools and the real SDK client, conditional writes included.
 */
export class ClaimsStore {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_DYNAMODB. */
  public endpoint = '';
  private server?: { listen: (port: number, host: string, cb: () => void) => void; close: (cb: () => void) => void; address: () => AddressInfo | string | null };

  public async start(): Promise<string> {
    requireAwsRehearsalModules('the purchase-claims store');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
    const dynalite = require('dynalite') as (options: object) => NonNullable<ClaimsStore['server']>;
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.endpoint;
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
    if (server) await new Promise<void>(resolve => server.close(() => resolve()));
  }
}
