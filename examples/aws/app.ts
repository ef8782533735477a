import { App } from 'aws-cdk-lib';
import { TrainingCapacityStack } from './stack';
import { HyperPodCapacityStack } from './training-plan-stack';
import { FrontierCapacityStack } from './ultraserver-stack';

const app = new App();
new TrainingCapacityStack(app, 'TrainingCapacity', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-2' },
});
// P6e-GB200 UltraServers are sold in the Dallas Local Zone, whose parent region is us-east-1.
new FrontierCapacityStack(app, 'FrontierCapacity', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: 'us-east-1' },
});
// A SageMaker training plan for a HyperPod cluster: SageMaker sells them where EC2 sells Capacity Blocks.
new HyperPodCapacityStack(app, 'HyperPodCapacity', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-2' },
});
app.synth();
