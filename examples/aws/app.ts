import { App } from 'aws-cdk-lib';
import { TrainingCapacityStack } from './stack';

const app = new App();
new TrainingCapacityStack(app, 'TrainingCapacity', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-2' },
});
app.synth();
