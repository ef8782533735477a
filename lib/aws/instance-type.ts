import { instanceTypeError } from './validation';

/**
 * An instance type that EC2 sells as Capacity Blocks for ML.
 *
 * The constants are the types known at release; use `of()` for types EC2 adds later.
 */
export class CapacityBlockInstanceType {
  /** 8 × NVIDIA A100 40 GB. */
  public static readonly P4D_24XLARGE = new CapacityBlockInstanceType('p4d.24xlarge');
  /** 8 × NVIDIA A100 80 GB. */
  public static readonly P4DE_24XLARGE = new CapacityBlockInstanceType('p4de.24xlarge');
  /** 1 × NVIDIA H100. */
  public static readonly P5_4XLARGE = new CapacityBlockInstanceType('p5.4xlarge');
  /** 8 × NVIDIA H100. */
  public static readonly P5_48XLARGE = new CapacityBlockInstanceType('p5.48xlarge');
  /** 8 × NVIDIA H200. */
  public static readonly P5E_48XLARGE = new CapacityBlockInstanceType('p5e.48xlarge');
  /** 8 × NVIDIA H200 with EFAv3 networking. */
  public static readonly P5EN_48XLARGE = new CapacityBlockInstanceType('p5en.48xlarge');
  /** 8 × NVIDIA B200. */
  public static readonly P6_B200_48XLARGE = new CapacityBlockInstanceType('p6-b200.48xlarge');
  /** 8 × NVIDIA B300. */
  public static readonly P6_B300_48XLARGE = new CapacityBlockInstanceType('p6-b300.48xlarge');
  /** NVIDIA GB200 UltraServer node. */
  public static readonly P6E_GB200_36XLARGE = new CapacityBlockInstanceType('p6e-gb200.36xlarge');
  /** 16 × AWS Trainium. */
  public static readonly TRN1_32XLARGE = new CapacityBlockInstanceType('trn1.32xlarge');
  /** 1 × AWS Trainium2. */
  public static readonly TRN2_3XLARGE = new CapacityBlockInstanceType('trn2.3xlarge');
  /** 16 × AWS Trainium2. */
  public static readonly TRN2_48XLARGE = new CapacityBlockInstanceType('trn2.48xlarge');
  /** 16 × AWS Trainium2, the node of a Trn2 UltraServer (buy those with `ultraserverType`). */
  public static readonly TRN2U_48XLARGE = new CapacityBlockInstanceType('trn2u.48xlarge');

  /**
   * An instance type by its EC2 name, e.g. `p5e.48xlarge`. A name no EC2 type is spelt like
   * (`p5.48xlarg`) throws; a well-formed type EC2 did not sell as Capacity Blocks when this release was
   * built (`m5.large`, or a type added since) synthesizes with a warning
   * (`cdk-capacity-reservations:instanceType`, which `Annotations.acknowledgeWarning` can acknowledge).
   *
   * @param name the EC2 instance type name (`family.size`)
   */
  public static of(name: string): CapacityBlockInstanceType {
    const error = instanceTypeError(name);
    if (error) {
      throw new Error(error);
    }
    return new CapacityBlockInstanceType(name);
  }

  /** The EC2 instance type name. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** The EC2 instance type name. */
  public toString(): string {
    return this.name;
  }
}
