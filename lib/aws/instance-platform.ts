/**
 * The operating system a Capacity Block reserves capacity for (EC2 `InstancePlatform`).
 *
 * Instances launched into the block must run this platform. The constants are the 18 values of the
 * EC2 API; `of()` accepts a value EC2 adds later.
 */
export class InstancePlatform {
  public static readonly LINUX_UNIX = new InstancePlatform('Linux/UNIX');
  public static readonly RED_HAT_ENTERPRISE_LINUX = new InstancePlatform('Red Hat Enterprise Linux');
  public static readonly SUSE_LINUX = new InstancePlatform('SUSE Linux');
  public static readonly WINDOWS = new InstancePlatform('Windows');
  public static readonly WINDOWS_WITH_SQL_SERVER = new InstancePlatform('Windows with SQL Server');
  public static readonly WINDOWS_WITH_SQL_SERVER_ENTERPRISE = new InstancePlatform('Windows with SQL Server Enterprise');
  public static readonly WINDOWS_WITH_SQL_SERVER_STANDARD = new InstancePlatform('Windows with SQL Server Standard');
  public static readonly WINDOWS_WITH_SQL_SERVER_WEB = new InstancePlatform('Windows with SQL Server Web');
  public static readonly LINUX_WITH_SQL_SERVER_STANDARD = new InstancePlatform('Linux with SQL Server Standard');
  public static readonly LINUX_WITH_SQL_SERVER_WEB = new InstancePlatform('Linux with SQL Server Web');
  public static readonly LINUX_WITH_SQL_SERVER_ENTERPRISE = new InstancePlatform('Linux with SQL Server Enterprise');
  public static readonly RHEL_WITH_SQL_SERVER_STANDARD = new InstancePlatform('RHEL with SQL Server Standard');
  public static readonly RHEL_WITH_SQL_SERVER_ENTERPRISE = new InstancePlatform('RHEL with SQL Server Enterprise');
  public static readonly RHEL_WITH_SQL_SERVER_WEB = new InstancePlatform('RHEL with SQL Server Web');
  public static readonly RHEL_WITH_HA = new InstancePlatform('RHEL with HA');
  public static readonly RHEL_WITH_HA_AND_SQL_SERVER_STANDARD = new InstancePlatform('RHEL with HA and SQL Server Standard');
  public static readonly RHEL_WITH_HA_AND_SQL_SERVER_ENTERPRISE = new InstancePlatform('RHEL with HA and SQL Server Enterprise');
  public static readonly UBUNTU_PRO = new InstancePlatform('Ubuntu Pro');

  /**
   * A platform by its EC2 API value, for values added after this release.
   *
   * @param value the `InstancePlatform` value, e.g. `Linux/UNIX`
   */
  public static of(value: string): InstancePlatform {
    if (value.trim() === '') {
      throw new Error('instancePlatform must not be empty; use one of the InstancePlatform constants');
    }
    return new InstancePlatform(value);
  }

  /** The EC2 API value. */
  public readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }
}

/** How to choose among the acceptable offerings. */
export enum OfferingSelection {
  /** The lowest upfront fee; ties go to the earliest start. */
  CHEAPEST = 'CHEAPEST',
  /** The earliest start; ties go to the lowest upfront fee. */
  EARLIEST_START = 'EARLIEST_START',
}
