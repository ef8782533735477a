import { trainingPlanInstanceTypeError, trainingPlanTargetError, trainingPlanUltraServerTypeError } from './training-plan-validation';

/**
 * An instance type SageMaker sells in training plans (the SDK's `ReservedCapacityInstanceType`).
 *
 * The constants are the types of @aws-sdk/client-sagemaker at release; use `of()` for types SageMaker adds later.
 */
export class TrainingPlanInstanceType {
  /** 8 × NVIDIA A100 40 GB. */
  public static readonly ML_P4D_24XLARGE = new TrainingPlanInstanceType('ml.p4d.24xlarge');
  /** 8 × NVIDIA A100 80 GB. */
  public static readonly ML_P4DE_24XLARGE = new TrainingPlanInstanceType('ml.p4de.24xlarge');
  /** 1 × NVIDIA H100. */
  public static readonly ML_P5_4XLARGE = new TrainingPlanInstanceType('ml.p5.4xlarge');
  /** 8 × NVIDIA H100. */
  public static readonly ML_P5_48XLARGE = new TrainingPlanInstanceType('ml.p5.48xlarge');
  /** 8 × NVIDIA H200. */
  public static readonly ML_P5E_48XLARGE = new TrainingPlanInstanceType('ml.p5e.48xlarge');
  /** 8 × NVIDIA H200 with EFAv3 networking. */
  public static readonly ML_P5EN_48XLARGE = new TrainingPlanInstanceType('ml.p5en.48xlarge');
  /** 8 × NVIDIA B200. */
  public static readonly ML_P6_B200_48XLARGE = new TrainingPlanInstanceType('ml.p6-b200.48xlarge');
  /** 8 × NVIDIA B300. */
  public static readonly ML_P6_B300_48XLARGE = new TrainingPlanInstanceType('ml.p6-b300.48xlarge');
  /** NVIDIA GB200 UltraServer node (buy whole UltraServers with `ultraServerType`). */
  public static readonly ML_P6E_GB200_36XLARGE = new TrainingPlanInstanceType('ml.p6e-gb200.36xlarge');
  /** 16 × AWS Trainium. */
  public static readonly ML_TRN1_32XLARGE = new TrainingPlanInstanceType('ml.trn1.32xlarge');
  /** 16 × AWS Trainium2. */
  public static readonly ML_TRN2_48XLARGE = new TrainingPlanInstanceType('ml.trn2.48xlarge');

  /**
   * An instance type by its SageMaker name, e.g. `ml.p5e.48xlarge`.
   *
   * @param name the SageMaker instance type name (`ml.family.size`)
   */
  public static of(name: string): TrainingPlanInstanceType {
    const error = trainingPlanInstanceTypeError(name);
    if (error) throw new Error(error);
    return new TrainingPlanInstanceType(name);
  }

  /** The SageMaker instance type name. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** The SageMaker instance type name. */
  public toString(): string {
    return this.name;
  }
}

/** An UltraServer type SageMaker sells in training plans (`UltraServerType`, e.g. `ml.u-p6e-gb200x72`). */
export class TrainingPlanUltraServerType {
  /** 72 NVIDIA Blackwell GPUs in one NVLink domain: 18 × ml.p6e-gb200.36xlarge. */
  public static readonly ML_U_P6E_GB200X72 = new TrainingPlanUltraServerType('ml.u-p6e-gb200x72');
  /** 36 NVIDIA Blackwell GPUs in one NVLink domain: 9 × ml.p6e-gb200.36xlarge. */
  public static readonly ML_U_P6E_GB200X36 = new TrainingPlanUltraServerType('ml.u-p6e-gb200x36');

  /**
   * An UltraServer type by its SageMaker name.
   *
   * @param name the SageMaker UltraServer type name, e.g. `ml.u-p6e-gb200x72`
   */
  public static of(name: string): TrainingPlanUltraServerType {
    const error = trainingPlanUltraServerTypeError(name);
    if (error) throw new Error(error);
    return new TrainingPlanUltraServerType(name);
  }

  /** The SageMaker UltraServer type name. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** The SageMaker UltraServer type name. */
  public toString(): string {
    return this.name;
  }
}

/**
 * What a training plan's capacity serves (SageMaker `TargetResources`). A plan is specific to its
 * target: one bought for training jobs cannot hold a HyperPod cluster's instance group.
 */
export class TrainingPlanTarget {
  /** SageMaker training jobs (`ResourceConfig.TrainingPlanArn`). */
  public static readonly TRAINING_JOB = new TrainingPlanTarget('training-job');
  /** Instance groups of SageMaker HyperPod clusters (`CfnCluster` instance group `trainingPlanArn`). */
  public static readonly HYPERPOD_CLUSTER = new TrainingPlanTarget('hyperpod-cluster');
  /** SageMaker endpoints. */
  public static readonly ENDPOINT = new TrainingPlanTarget('endpoint');
  /** JupyterLab and Code Editor apps of SageMaker Studio. */
  public static readonly STUDIO_APPS = new TrainingPlanTarget('studio-apps');

  /**
   * A target resource by its SageMaker name.
   *
   * @param value the SageMaker `SageMakerResourceName`, e.g. `training-job`
   */
  public static of(value: string): TrainingPlanTarget {
    const error = trainingPlanTargetError(value);
    if (error) throw new Error(error);
    return new TrainingPlanTarget(value);
  }

  /** The SageMaker name of the target resource. */
  public readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }

  /** The SageMaker name of the target resource. */
  public toString(): string {
    return this.value;
  }
}
