import {
  AwsHandler, AwsRehearsalSeams, CloudFormationStack, Delivery, Ec2Emulator, Ec2EmulatorOptions, ProviderFramework, quietly, withAwsHandler, withProviderFramework,
} from '../../../lib/local';

/**
 * The bundled handler inside the REAL Provider framework runtime of aws-cdk-lib (only its Lambda,
 * Step Functions and HTTPS calls are stubbed), against the EC2 emulator and a local DynamoDB, with
 * a CloudFormation stack model that sends its event sequences.
 */
export interface Engine {
  readonly handler: AwsHandler;
  readonly emulator: Ec2Emulator;
  readonly framework: ProviderFramework;
  /** The claims table's DynamoDB (ledger write faults) and CloudFormation's DescribeStacks. */
  readonly seams: AwsRehearsalSeams;
  stack(delivery?: Delivery): CloudFormationStack;
}

export function engineFor(names: { stackName: string; logicalId: string }) {
  return <T>(work: (e: Engine) => Promise<T>, ec2: Ec2EmulatorOptions = {}): Promise<T> =>
    withAwsHandler(ec2, (handler, emulator, seams) => quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, framework => work({
      handler, emulator, framework, seams,
      // A stack created again gets a new claims table, as in AWS: the resource's ledger starts over.
      stack: (delivery: Delivery = 'once') => new CloudFormationStack(framework, { ...names, region: 'us-east-1' }, () => delivery, 2, seams.newClaimsTable),
    }))));
}
