import { ultraserverTypeError } from './validation';

/**
 * An EC2 UltraServer type that EC2 sells as Capacity Blocks for ML: several instances joined by an
 * accelerator interconnect, bought and delivered as one unit.
 *
 * The constants are the types known at release; use `of()` for types EC2 adds later.
 */
export class UltraServerType {
  /** P6e-GB200 NVL72: 18 × p6e-gb200.36xlarge (72 NVIDIA Blackwell GPUs). Sold in the Dallas Local Zone (us-east-1-dfw-2a). */
  public static readonly P6E_GB200_X72 = new UltraServerType('u-p6e-gb200x72', 'p6e-gb200.36xlarge');
  /** P6e-GB200 NVL36: 9 × p6e-gb200.36xlarge (36 NVIDIA Blackwell GPUs). */
  public static readonly P6E_GB200_X36 = new UltraServerType('u-p6e-gb200x36', 'p6e-gb200.36xlarge');
  /** Trn2 UltraServer: 4 × trn2u.48xlarge (64 AWS Trainium2 chips over NeuronLink). */
  public static readonly TRN2_X64 = new UltraServerType('u-trn2x64', 'trn2u.48xlarge');

  /**
   * An UltraServer type by its EC2 name, e.g. `u-p6e-gb200x72`.
   *
   * @param name the EC2 UltraServer type name (`u-…`)
   * @param instanceType the instance type its nodes run, if known; launch templates are checked against it
   */
  public static of(name: string, instanceType?: string): UltraServerType {
    const error = ultraserverTypeError(name);
    if (error) {
      throw new Error(error);
    }
    return new UltraServerType(name, instanceType);
  }

  /** The EC2 UltraServer type name. */
  public readonly name: string;

  /** The instance type of the UltraServer's nodes, when known. */
  public readonly instanceType?: string;

  private constructor(name: string, instanceType?: string) {
    this.name = name;
    this.instanceType = instanceType;
  }

  /** The EC2 UltraServer type name. */
  public toString(): string {
    return this.name;
  }
}
