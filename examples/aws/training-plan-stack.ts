import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { TrainingPlanInstanceType, TrainingPlanPurchase, TrainingPlanTarget } from '../../lib';

/**
 * A HyperPod team's stack: a SageMaker training plan of four ml.p5.48xlarge for two days at no more
 * than $8,000, and a HyperPod cluster whose worker instance group runs on it. No CloudFormation
 * resource buys a training plan; without this, the ARN is pasted in from the console.
 */
export class HyperPodCapacityStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const plan = new TrainingPlanPurchase(this, 'HyperPodPlan', {
      instanceType: TrainingPlanInstanceType.ML_P5_48XLARGE,
      instanceCount: 4,
      duration: Duration.days(2),
      targetResources: [TrainingPlanTarget.HYPERPOD_CLUSTER],
      maxUpfrontFee: 8_000, // 4 x 48 h at ~$38 per instance-hour is ~$7,400 today
      tags: { project: 'llm-pretraining' },
      // `cdk deploy -c previewOnly=true` first: nothing is bought, and the worker group is deployed
      // with no instances; the deploy without it buys the plan and gives the group its 4 instances.
      previewOnly: this.node.tryGetContext('previewOnly') === 'true',
    });

    // The instances' role; give it what your lifecycle scripts and training need.
    const nodes = new iam.Role(this, 'ClusterNodes', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    new sagemaker.CfnCluster(this, 'Cluster', {
      clusterName: 'llm-pretraining',
      instanceGroups: [plan.instanceGroup({
        instanceGroupName: 'workers',
        instanceType: 'ml.p5.48xlarge',
        instanceCount: 4,
        executionRole: nodes.roleArn,
        lifeCycleConfig: { sourceS3Uri: 's3://llm-pretraining-hyperpod-lifecycle/scripts/', onCreate: 'on_create.sh' },
      })],
    });

    new CfnOutput(this, 'TrainingPlanArn', { value: plan.trainingPlanArn });
    new CfnOutput(this, 'TrainingPlanStatus', { value: plan.status });
    new CfnOutput(this, 'TrainingPlanWindow', { value: `${plan.startTime} .. ${plan.endTime}` });
    new CfnOutput(this, 'TrainingPlanFee', { value: `${plan.upfrontFee} ${plan.currencyCode}` });
  }
}
