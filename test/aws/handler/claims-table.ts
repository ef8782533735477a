import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { CLAIMS_TABLE_ENV } from '../../../lib/aws/wire';
import { ClaimsStore } from '../../../lib/local/aws/claims-store';

/**
 * The handler's purchase claims live in DynamoDB. Specs run them against dynalite (a real DynamoDB
 * implementation, in memory, on 127.0.0.1) through Powertools and the real SDK client, with a fresh
 * table per test so that request ids reused across tests never replay each other's outcomes.
 */
export function useClaimsTable(): { items: () => Promise<number>; stackStatus: (status: string) => void } {
  const store = new ClaimsStore();
  // An Update asks CloudFormation whether its stack rolls back: a forward update unless a spec says otherwise.
  const cloudFormation = mockClient(CloudFormationClient);
  const stackStatus = (status: string) => cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Training', StackStatus: status as never, CreationTime: new Date() }] });
  beforeAll(async () => {
    await store.start();
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: store.endpoint, AWS_REGION: 'us-east-2', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' });
  });
  beforeEach(async () => {
    process.env[CLAIMS_TABLE_ENV] = await store.newTable();
    cloudFormation.reset();
    stackStatus('UPDATE_IN_PROGRESS');
  });
  afterAll(() => store.stop());
  return {
    stackStatus,
    /** How many claims the current table holds. */
    items: async () => {
      const client = new DynamoDBClient({ endpoint: store.endpoint });
      try {
        return (await client.send(new ScanCommand({ TableName: process.env[CLAIMS_TABLE_ENV] }))).Count ?? 0;
      } finally {
        client.destroy();
      }
    },
  };
}
