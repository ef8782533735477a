import * as path from 'path';
import { CloudFormationStack, Delivery, Ec2Emulator, Ec2EmulatorOptions, ProviderFramework, quietly, withProviderFramework } from '../../../lib/local';
import { PricingEmulator, PricingEmulatorOptions } from '../../../lib/local/aws/pricing-emulator';
import { AwsRehearsalSeams, BundledHandler, withBundledHandler } from '../../../lib/local/aws/rehearsal';
import { ASSETS } from '../../../lib/local/resources';

const FUTURE_BUNDLE = path.join(ASSETS, 'future-reservation-handler', 'index.js');
export const FUTURE_TYPE = 'Custom::FutureCapacityReservation';

/** The bundled future-dated reservation handler, with the seams every bundle exports. */
export interface FutureHandler extends BundledHandler {
  hooks: { beforeCall: (command: string) => void };
}

export interface FutureEngine {
  readonly handler: FutureHandler;
  readonly ec2: Ec2Emulator;
  readonly pricing: PricingEmulator;
  readonly framework: ProviderFramework;
  readonly seams: AwsRehearsalSeams;
  stack(delivery?: Delivery): CloudFormationStack;
}

// The bundle's clients resolve their endpoints once per module load: every engine in a process serves on the same ports.
let ec2Port: number | undefined;
let pricingPort: number | undefined;

/**
 * The bundled handler inside the REAL Provider framework runtime of aws-cdk-lib, against the EC2
 * emulator (future-dated reservations), the Price List emulator, a local DynamoDB and CloudFormation's
 * DescribeStacks, on simulated time.
 */
export async function withFutureEngine<T>(work: (e: FutureEngine) => Promise<T>, ec2Options: Ec2EmulatorOptions = {}, pricingOptions: PricingEmulatorOptions = {}): Promise<T> {
  const ec2 = new Ec2Emulator({ port: ec2Port, ...ec2Options, region: 'us-east-1' });
  ec2Port = Number(new URL(await ec2.start()).port);
  const pricing = new PricingEmulator({ port: pricingPort, ...pricingOptions });
  pricingPort = Number(new URL(await pricing.start()).port);
  const saved = process.env.AWS_ENDPOINT_URL_PRICING;
  process.env.AWS_ENDPOINT_URL_PRICING = pricing.endpoint;
  try {
    return await withBundledHandler<FutureHandler, Ec2Emulator, T>(FUTURE_BUNDLE, ec2, 'AWS_ENDPOINT_URL_EC2', 'us-east-1', (handler, emulator, seams) =>
      quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, framework => work({
        handler, ec2: emulator, pricing, framework, seams,
        stack: (delivery: Delivery = 'once') => new CloudFormationStack(framework, { stackName: 'Plans', logicalId: 'Reservation', region: 'us-east-1', resourceType: FUTURE_TYPE }, () => delivery, 2, seams.newClaimsTable),
      }))));
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_PRICING;
    else process.env.AWS_ENDPOINT_URL_PRICING = saved;
    await pricing.stop();
  }
}
