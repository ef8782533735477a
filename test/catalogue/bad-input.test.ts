import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AliCapacityReservation, AliCapacityReservationProps } from '../../lib/alicloud';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, InstancePlatform, OfferingSelection, UltraServerType } from '../../lib';
import { rehearseAlicloud, rehearseAws } from '../../lib/local';
import { awsTemplate, rosTemplate } from '../local/templates';

/**
 * The bad-input catalogue: every case must fail with a message naming the field, and at deploy
 * time the emulator must have seen no mutating call (bad input changes nothing).
 */
const DAY = 86_400_000;
const future = (days: number) => new Date(Date.now() + days * DAY);

describe('CapacityBlockPurchase refuses bad literal props at synth', () => {
  const good: CapacityBlockPurchaseProps = { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 6500 };
  test.each<[string, Partial<CapacityBlockPurchaseProps>, RegExp]>([
    ['count 0', { instanceCount: 0 }, /instanceCount .* got 0/],
    ['count 65', { instanceCount: 65 }, /instanceCount .* got 65/],
    ['count 1.5', { instanceCount: 1.5 }, /instanceCount .* got 1.5/],
    ['count -1', { instanceCount: -1 }, /instanceCount .* got -1/],
    ['fee 0', { maxUpfrontFee: 0 }, /maxUpfrontFee .* got 0/],
    ['fee -5', { maxUpfrontFee: -5 }, /maxUpfrontFee .* got -5/],
    ['fee NaN', { maxUpfrontFee: NaN }, /maxUpfrontFee .* got NaN/],
    ['fee Infinity', { maxUpfrontFee: Infinity }, /maxUpfrontFee .* got Infinity/],
    // The template would carry these as '1e+21' and '1e-7', which the deploy-time parser refuses.
    ['fee 1e21', { maxUpfrontFee: 1e21 }, /maxUpfrontFee must be a plain decimal amount such as 60000 or 60000\.50, got 1e\+21, which the template would carry as '1e\+21'/],
    ['fee 1e-7', { maxUpfrontFee: 1e-7 }, /maxUpfrontFee must be a plain decimal amount .* got 1e-7/],
    ['latestEnd already past', { latestEnd: future(-1) }, /latestEnd .* has already passed; move it into the future/],
    ['duration 36 h', { duration: Duration.hours(36) }, /duration .* got 36 h/],
    ['duration 15 days', { duration: Duration.days(15) }, /duration .* got 15 days/],
    ['duration 183 days', { duration: Duration.days(183) }, /duration .* got 183 days/],
    ['duration 90 minutes', { duration: Duration.minutes(90) }, /duration .* got 1.5 h/],
    ['currency usd', { currencyCode: 'usd' }, /currencyCode .* got 'usd'/],
    ['offering id', { offeringId: 'offer-1' }, /offeringId .* got 'offer-1'/],
    ['offering + zone', { offeringId: 'cb-0abc', availabilityZone: 'us-east-2a' }, /offeringId pins one offering, so availabilityZone/],
    ['offering + selection', { offeringId: 'cb-0abc', selection: OfferingSelection.EARLIEST_START }, /offeringId pins one offering, so selection/],
    ['zone in another region', { availabilityZone: 'eu-west-1a' }, /availabilityZone must be in the stack's region us-east-2, got 'eu-west-1a'/],
    ['zone nonsense', { availabilityZone: 'zone 1' }, /availabilityZone .* got 'zone 1'/],
    ['window reversed', { earliestStart: future(10), latestEnd: future(5) }, /latestEnd .* must be after earliestStart/],
    ['window too short', { earliestStart: future(5), latestEnd: future(6) }, /window earliestStart..latestEnd .* shorter than duration/],
    ['wait 3 hours', { waitTimeout: Duration.hours(3) }, /waitTimeout .* got 10800 seconds/],
    ['preview + repurchase', { previewOnly: true, allowRepurchase: true }, /allowRepurchase has no effect with previewOnly/],
    ['tag aws:', { tags: { 'aws:team': 'x' } }, /tag key must not start with 'aws:'/],
    ['tag reserved', { tags: { 'cdk-capacity-reservations:x': 'y' } }, /tag key must not start with 'cdk-capacity-reservations:'/],
    ['tag value 257', { tags: { team: 'v'.repeat(257) } }, /tag value for 'team' must be at most 256/],
    ['instances and UltraServers', { ultraserverType: UltraServerType.P6E_GB200_X72, ultraserverCount: 1 }, /instanceType\/instanceCount and ultraserverType\/ultraserverCount cannot be combined/],
    ['UltraServer count 0', { instanceType: undefined, instanceCount: undefined, ultraserverType: UltraServerType.P6E_GB200_X72, ultraserverCount: 0 }, /ultraserverCount must be a whole number of UltraServers, 1 or more, got 0/],
    ['UltraServer count 1.5', { instanceType: undefined, instanceCount: undefined, ultraserverType: UltraServerType.P6E_GB200_X72, ultraserverCount: 1.5 }, /ultraserverCount .* got 1.5/],
    ['UltraServer type without count', { instanceType: undefined, instanceCount: undefined, ultraserverType: UltraServerType.P6E_GB200_X72 }, /an UltraServer block needs both ultraserverType and ultraserverCount; set ultraserverCount/],
  ])('fails on %s', (_name, override, message) => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'us-east-2' } });
    expect(() => {
      new CapacityBlockPurchase(stack, 'Block', { ...good, ...override });
      app.synth(); // tag rules run in node.addValidation, after Tags.of() aspects
    }).toThrow(message);
  });

  test('fails on enum escape hatches given nonsense', () => {
    expect(() => CapacityBlockInstanceType.of('H100 x8')).toThrow(/instanceType .* got 'H100 x8'/);
    expect(() => InstancePlatform.of(' ')).toThrow(/instancePlatform must not be empty/);
  });
});

describe('AliCapacityReservation refuses bad literal props at synth', () => {
  const good: AliCapacityReservationProps = { instanceType: 'ecs.gn7i-c8g1.2xlarge', instanceAmount: 4, zoneIds: ['cn-hangzhou-h'] };
  test.each<[string, Partial<AliCapacityReservationProps>, RegExp]>([
    ['type without ecs.', { instanceType: 'gn7i-c8g1.2xlarge' }, /instanceType .* got 'gn7i-c8g1.2xlarge'/],
    ['two types', { instanceType: 'ecs.g6.large,ecs.g6.xlarge' }, /instanceType must be one instance type/],
    ['amount 0', { instanceAmount: 0 }, /instanceAmount .* got 0/],
    ['amount 2.5', { instanceAmount: 2.5 }, /instanceAmount .* got 2.5/],
    ['amount above the ECS limit', { instanceAmount: 1001 }, /instanceAmount must be at most 1000 \(the ECS limit per reservation\), got 1001/],
    ['amount as a string', { instanceAmount: '4' as unknown as number }, /instanceAmount must be a number, got string "4"; write it without quotes/],
    ['no zones', { zoneIds: [] }, /zoneIds must name at least one zone/],
    ['bad zone', { zoneIds: ['Hangzhou H'] }, /zoneIds entries .* got 'Hangzhou H'/],
    ['repeated zone', { zoneIds: ['cn-hangzhou-h', 'cn-hangzhou-h'] }, /zoneIds must not repeat a zone, got cn-hangzhou-h/],
    ['name too short', { name: 'a' }, /name must be 2-128 characters.*got 'a'/],
    ['name starts with digit', { name: '1pool' }, /name .* got '1pool'/],
    ['name is a URL', { name: 'https://pool' }, /name must not start with http:\/\/ or https:\/\/, got 'https:\/\/pool'/],
    ['name with space', { name: 'gpu pool' }, /name .* got 'gpu pool'/],
    ['description too short', { description: 'x' }, /description must be 2-256 characters, got 1/],
    ['description is a URL', { description: 'http://example.com/pool' }, /description must not start with http.*got 'http:\/\/example.com\/pool'/],
    ['endTime format', { endTime: '2030-01-01 00:00' }, /endTime must be UTC in the form yyyy-MM-ddTHH:mm:ssZ, got '2030-01-01 00:00'/],
    ['resource group', { resourceGroupId: 'default' }, /resourceGroupId .* got 'default'/],
    ['wait 10 s', { waitTimeout: 10 }, /waitTimeout must be 60-3000 seconds, got 10/],
    ['tag aliyun', { tags: { aliyunTeam: 'x' } }, /tag key must not start with 'aliyun' or 'acs:', got 'aliyunTeam'/],
    ['tag value acs:', { tags: { team: 'acs:x' } }, /tag value for 'team' must not start with 'acs:'/],
    ['19 tags', { tags: Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`k${i}`, 'v'])) }, /at most 16 tags .* got 19/],
  ])('fails on %s', (_name, override, message) => {
    const stack = new ros.Stack(new ros.App({ outdir: mkdtempSync(join(tmpdir(), 'ros-')) }), 'S');
    expect(() => new AliCapacityReservation(stack, 'Pool', { ...good, ...override })).toThrow(message);
  });
});

const EC2_MUTATING = ['PurchaseCapacityBlock', 'PurchaseCapacityBlockExtension', 'CreateTags', 'DeleteTags', 'CancelCapacityReservation'];

describe('the Lambda handler refuses bad resolved values before any mutating EC2 call', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['count from a parameter = 0', { InstanceCount: '0' }, /instanceCount must be a whole number from 1 to 64, got 0/],
    ['count not a number', { InstanceCount: 'four' }, /instanceCount must be a plain number, got 'four'/],
    ['count in hex', { InstanceCount: '0x4' }, /instanceCount must be a plain number, got '0x4'/],
    ['fee negative', { MaxUpfrontFee: '-1' }, /maxUpfrontFee must be a plain number, got '-1'/],
    ['fee blank', { MaxUpfrontFee: ' ' }, /maxUpfrontFee must be a plain number, got ' '/],
    ['fee in hex', { MaxUpfrontFee: '0x10' }, /maxUpfrontFee must be a plain number, got '0x10'/],
    ['earliestStart beyond 8 weeks', { EarliestStart: new Date(Date.now() + 60 * 86_400_000).toISOString() }, /earliestStart .* is more than 8 weeks ahead/],
    ['fee missing', { MaxUpfrontFee: '' }, /maxUpfrontFee is required/],
    ['duration 25 h', { DurationHours: '25' }, /duration .* got 25 h/],
    ['zone not a zone name', { AvailabilityZone: 'zone-1' }, /availabilityZone must be an Availability Zone name .* got 'zone-1'/],
    ['type', { InstanceType: 'P5' }, /instanceType .* got 'P5'/],
    ['selection', { Selection: 'BEST' }, /selection must be CHEAPEST or EARLIEST_START, got 'BEST'/],
    ['currency', { CurrencyCode: 'dollars' }, /currencyCode .* got 'dollars'/],
    ['offering id', { OfferingId: 'xyz' }, /offeringId .* got 'xyz'/],
    ['preview flag', { PreviewOnly: 'maybe' }, /previewOnly must be true or false, got 'maybe'/],
    ['instances and UltraServers', { UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '1' }, /instanceType\/instanceCount and ultraserverType\/ultraserverCount cannot be combined/],
    ['UltraServer type nonsense', { InstanceType: undefined, InstanceCount: undefined, UltraserverType: 'NVL72', UltraserverCount: '1' }, /ultraserverType must be an EC2 UltraServer type such as u-p6e-gb200x72, got 'NVL72'/],
    ['UltraServer count 0', { InstanceType: undefined, InstanceCount: undefined, UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '0' }, /ultraserverCount .* got 0/],
    ['wait timeout', { WaitTimeoutSeconds: '99999' }, /waitTimeout .* got 99999 seconds/],
    ['tag key aws:', { Tags: [{ Key: 'aws:x', Value: 'y' }] }, /tag key must not start with 'aws:'/],
    ['window in the past', { LatestEnd: new Date(Date.now() + DAY).toISOString() }, /latestEnd .* leaves no room/],
  ])('fails on %s', async (_name, props, message) => {
    const { reports, emulator } = await rehearseAws(awsTemplate(props), { redeliver: false });
    expect(reports[0].ok).toBe(false);
    expect(reports[0].error).toMatch(message);
    expect(emulator.calls.filter(c => EC2_MUTATING.includes(c.action))).toEqual([]);
  });
});

const ECS_MUTATING = ['CreateCapacityReservation', 'ModifyCapacityReservation', 'ReleaseCapacityReservation', 'TagResources', 'UntagResources'];

describe('the FC handler refuses bad resolved values before any mutating ECS call', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['amount 0', { InstanceAmount: 0 }, /instanceAmount must be a whole number of at least 1, got 0/],
    ['amount text', { InstanceAmount: 'four' }, /instanceAmount must be a decimal whole number, got "four"/],
    ['amount above 1000', { InstanceAmount: '1001' }, /instanceAmount must be at most 1000/],
    ['type', { InstanceType: 'gpu' }, /instanceType .* got 'gpu'/],
    ['zones empty', { ZoneIds: [] }, /zoneIds must name at least one zone/],
    ['name', { Name: '_pool' }, /name .* got '_pool'/],
    ['match criteria', { MatchCriteria: 'Any' }, /matchCriteria must be Open or Target, got 'Any'/],
    ['end time past', { EndTime: '2021-01-01T00:00:00Z' }, /endTime must be in the future, got 2021-01-01T00:00:00Z/],
    ['platform', { Platform: 'BSD' }, /platform must be Linux or Windows, got 'BSD'/],
    ['resource group', { ResourceGroupId: 'grp' }, /resourceGroupId .* got 'grp'/],
    ['removal policy', { RemovalPolicy: 'destroy' }, /removalPolicy must be one of release, retain, retain-on-update-or-delete, got 'destroy'/],
    ['wait timeout', { WaitTimeoutSeconds: 5 }, /waitTimeout must be 60-3000 seconds, got 5/],
    ['tag key acs:', { Tags: [{ Key: 'acs:team', Value: 'x' }] }, /tag key must not start with 'aliyun' or 'acs:', got 'acs:team'/],
  ])('fails on %s', async (_name, parameters, message) => {
    const { reports, emulator } = await rehearseAlicloud(rosTemplate(parameters), { redeliver: false });
    expect(reports[0].ok).toBe(false);
    expect(reports[0].error).toMatch(message);
    expect(emulator.calls.filter(c => ECS_MUTATING.includes(c.action))).toEqual([]);
  });
});
