import { Ec2Emulator, Ec2EmulatorOptions } from './aws/ec2-emulator';
import { SageMakerEmulator, SageMakerEmulatorOptions } from './aws/sagemaker-emulator';
import { EcsEmulator, EcsEmulatorOptions } from './alicloud/ecs-emulator';

export interface LocalClouds {
  readonly ec2: Ec2Emulator;
  readonly sageMaker: SageMakerEmulator;
  readonly ecs: EcsEmulator;
}

/**
 * The emulators on loopback (EC2, SageMaker, ECS), with the environment the AWS SDK's default chain and the official
 * Alibaba client read pointed at them (endpoints, credentials, region) for the length of `work`:
 * how `npm start` and the bench run the real `plan` CLI without a cloud. The environment and the
 * servers are restored and stopped afterwards, whatever `work` does.
 */
export async function withLocalClouds<T>(options: { ec2?: Ec2EmulatorOptions; sageMaker?: SageMakerEmulatorOptions; ecs?: EcsEmulatorOptions }, work: (clouds: LocalClouds) => Promise<T>): Promise<T> {
  const ec2 = new Ec2Emulator(options.ec2);
  const sageMaker = new SageMakerEmulator({ region: options.ec2?.region, ...options.sageMaker });
  const ecs = new EcsEmulator(options.ecs);
  const saved = { ...process.env };
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_EC2: await ec2.start(), AWS_ENDPOINT_URL_SAGEMAKER: await sageMaker.start(), AWS_ACCESS_KEY_ID: 'AKIDLOCALCLOUDS', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: options.ec2?.region ?? 'us-east-1',
      ALIBABA_CLOUD_ECS_ENDPOINT: await ecs.start(), ALIBABA_CLOUD_ECS_PROTOCOL: 'http',
      ALIBABA_CLOUD_ACCESS_KEY_ID: ecs.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ecs.accessKeySecret,
    });
    delete process.env.AWS_PROFILE;
    return await work({ ec2, sageMaker, ecs });
  } finally {
    process.env = saved;
    await Promise.all([ec2.stop(), sageMaker.stop(), ecs.stop()]);
  }
}
