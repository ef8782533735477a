/** What every part of the EC2 emulator shares of the Query protocol: its errors and its flattened lists. */

export class Ec2Error extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }
}

/** Values of Name.1, Name.2, … in a form-encoded EC2 request. */
export function list(p: Record<string, string>, name: string): string[] {
  const values: string[] = [];
  for (let i = 1; p[`${name}.${i}`] !== undefined; i++) values.push(p[`${name}.${i}`]);
  return values;
}

/**
 * Tags of `<name>.N` (for `resourceType`) in a form-encoded EC2 request. The name is the operation's
 * own: PurchaseCapacityBlock sends TagSpecification.1, CreateCapacityReservation TagSpecifications.1.
 */
export function tagSpecifications(p: Record<string, string>, resourceType: string, name: 'TagSpecification' | 'TagSpecifications'): Map<string, string> {
  const tags = new Map<string, string>();
  for (let s = 1; p[`${name}.${s}.ResourceType`] !== undefined; s++) {
    if (p[`${name}.${s}.ResourceType`] !== resourceType) continue;
    for (let t = 1; p[`${name}.${s}.Tag.${t}.Key`] !== undefined; t++) {
      tags.set(p[`${name}.${s}.Tag.${t}.Key`], p[`${name}.${s}.Tag.${t}.Value`] ?? '');
    }
  }
  return tags;
}
