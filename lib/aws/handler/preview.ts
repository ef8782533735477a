import { PurchaseCapacityBlockCommand } from '@aws-sdk/client-ec2';
import { CapacityBlockAttributes, PREVIEW_ID_PREFIX } from '../wire';
import { ec2, ec2CallOptions } from './ec2';
import { errorCode, oneLine, UserError } from './errors';
import { judgeOfferings, money, noAcceptableOffering, searchOfferings } from './offerings';
import { ResourceKeys } from './ownership';
import { attributesFrom } from './reservation';
import { purchaseTags } from './purchase';
import { assertWindowStillOpen, CapacityBlockRequest } from './request';

/**
 * previewOnly: the same search and choice as a purchase, then a DryRun purchase with the same tags.
 * Buys nothing. EC2 authorizes a dry run like the call, the role's tag conditions included, so a
 * preview that passes here would pass as a purchase.
 */
export async function preview(request: CapacityBlockRequest, keys: ResourceKeys, now: Date, hint = ''): Promise<{ physicalResourceId: string; data: CapacityBlockAttributes }> {
  assertWindowStillOpen(request, now);
  const judgement = judgeOfferings(await searchOfferings(request, now), request);
  const best = judgement.acceptable[0];
  if (!best) throw noAcceptableOffering(request, judgement);
  try {
    // A dry run never buys, so it may be retried like any read.
    await ec2.send(new PurchaseCapacityBlockCommand({
      CapacityBlockOfferingId: best.id,
      InstancePlatform: request.instancePlatform as never,
      TagSpecifications: purchaseTags(request, keys, best),
      DryRun: true,
    }), ec2CallOptions());
  } catch (error) {
    if (errorCode(error) !== 'DryRunOperation') {
      throw new UserError(`The dry-run purchase of ${best.id} failed (${oneLine(error)}): a real purchase would fail too; fix the cause EC2 names before removing previewOnly`);
    }
  }
  return {
    physicalResourceId: `${PREVIEW_ID_PREFIX}${best.id}`,
    data: attributesFrom({
      AvailabilityZone: best.availabilityZone,
      StartDate: best.startDate.toISOString(),
      EndDate: best.endDate.toISOString(),
      UpfrontFee: best.upfrontFeeText,
      CurrencyCode: best.currencyCode,
      State: 'preview',
      OfferingId: best.id,
      Note: `previewOnly: nothing was bought; would buy ${best.id} in ${best.availabilityZone} for ${money(best.upfrontFee, best.currencyCode)} (${judgement.acceptable.length} acceptable, ${judgement.refused.length} refused)${hint}`,
    }),
  };
}
