import { FaultInjector, FaultPlan } from '../faults';
import { LoopbackApi, RawRequest, RawResponse } from '../http-server';

/**
 * The Price List Query API (`AWSPriceListService`, AWS JSON 1.1: POST /, `X-Amz-Target:
 * AWSPriceListService.GetProducts`) for EC2 On-Demand rates, faithful enough for
 * @aws-sdk/client-pricing to parse every answer (a spec checks every key against its model). Point the
 * SDK at it with AWS_ENDPOINT_URL_PRICING. Loopback only.
 *
 * Like the real service, one instance type answers several products unless the filters pin them: one per
 * operating system, pre-installed software, tenancy, licence model and `capacitystatus` (Used,
 * UnusedCapacityReservation, AllocatedCapacityReservation, all at the same hourly rate). Each product
 * is a JSON document sent as a string, with OnDemand and Reserved terms; the rate is a decimal string
 * with ten places ("1.5360000000"), as the Price List writes it.
 */
export interface PricingEmulatorOptions {
  /** Rates per instance-hour (USD, Linux, shared tenancy) by instance type; others are derived from the size. */
  readonly rates?: Record<string, string>;
  readonly faults?: FaultPlan;
  readonly port?: number;
}

export interface PricingCall {
  readonly action: string;
  readonly params: Record<string, any>;
  readonly fault?: string;
}

class PricingError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)', 'us-east-2': 'US East (Ohio)', 'us-west-2': 'US West (Oregon)',
  'eu-central-1': 'EU (Frankfurt)', 'eu-west-1': 'EU (Ireland)', 'ap-south-1': 'Asia Pacific (Mumbai)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
};
/** USD per vCPU-hour on Linux, by family letter: enough to make derived rates look like the real ones. */
const PER_VCPU_HOUR: Record<string, number> = { c: 0.0425, g: 0.2515, i: 0.0781, m: 0.048, r: 0.063, t: 0.0416 };
const OPERATING_SYSTEMS: Array<{ os: string; sw: string; uplift: number }> = [
  { os: 'Linux', sw: 'NA', uplift: 0 }, { os: 'RHEL', sw: 'NA', uplift: 0.13 }, { os: 'SUSE', sw: 'NA', uplift: 0.1 },
  { os: 'Windows', sw: 'NA', uplift: 0.46 }, { os: 'Windows', sw: 'SQL Std', uplift: 1.2 }, { os: 'Linux', sw: 'SQL Web', uplift: 0.1 },
];
const CAPACITY_STATUSES = ['Used', 'UnusedCapacityReservation', 'AllocatedCapacityReservation'];
const PAGE_SIZE = 100;

export class PricingEmulator extends LoopbackApi {
  public readonly calls: PricingCall[] = [];
  /** Every request key read and every answer sent, by action: checked against the SDK model. */
  public readonly parametersRead = new Map<string, Set<string>>();
  public readonly answers: Array<{ action: string; body: Record<string, unknown> }> = [];
  public readonly faults: FaultInjector;
  private readonly scripted: Array<{ action: string; fault: 'throttle' | 'serverError' }> = [];

  constructor(private readonly options: PricingEmulatorOptions = {}) {
    super();
    this.faults = new FaultInjector(options.faults);
  }

  /** Listens on `options.port` unless told another (any free port by default); AWS_ENDPOINT_URL_PRICING takes the endpoint. */
  public start(port = this.options.port): Promise<string> {
    return super.start(port);
  }

  /** The next `count` requests for `action` fail with `fault`: bursts, as throttling comes. */
  public failNext(action: string, fault: 'throttle' | 'serverError', count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push({ action, fault });
  }

  /** The Linux, shared-tenancy On-Demand rate of `instanceType` in USD, as the Price List writes it. */
  public linuxRate(instanceType: string): string {
    const given = this.options.rates?.[instanceType];
    if (given) return given;
    const [family, size] = instanceType.split('.');
    const n = /^(\d+)xlarge$/.exec(size ?? '');
    const vcpus = size === 'xlarge' ? 4 : n ? 4 * Number(n[1]) : 2;
    return (vcpus * (PER_VCPU_HOUR[family[0]] ?? 0.05)).toFixed(10);
  }

  protected async handle(request: RawRequest): Promise<RawResponse> {
    const action = String(request.headers['x-amz-target'] ?? '').replace(/^AWSPriceListService\./, '');
    const raw = request.body ? JSON.parse(request.body) as Record<string, any> : {};
    const read = this.parametersRead.get(action) ?? new Set<string>();
    this.parametersRead.set(action, read);
    const params = new Proxy(raw, { get: (target, key) => (typeof key === 'string' && read.add(key), target[key as string]) });
    const i = this.scripted.findIndex(s => s.action === action);
    const fault = i >= 0 ? this.scripted.splice(i, 1)[0].fault : this.faults.before();
    this.calls.push({ action, params: raw, fault });
    if (fault === 'throttle') return this.error(new PricingError('ThrottlingException', 'Rate exceeded'));
    if (fault === 'serverError' || fault === 'reset' || fault === 'hang') return this.error(new PricingError('InternalErrorException', 'An internal error occurred.', 500));
    try {
      if (action !== 'GetProducts') throw new PricingError('UnknownOperationException', `Unknown operation ${action}`);
      const body = this.getProducts(params);
      this.answers.push({ action, body });
      return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body) };
    } catch (error) {
      if (error instanceof PricingError) return this.error(error);
      throw error;
    }
  }

  private getProducts(p: Record<string, any>): Record<string, unknown> {
    if (p.ServiceCode !== 'AmazonEC2') throw new PricingError('InvalidParameterException', `Input parameters ServiceCode ${p.ServiceCode} is invalid`);
    const filters = (p.Filters ?? []) as Array<{ Type: string; Field: string; Value: string }>;
    for (const f of filters) {
      if (f.Type !== 'TERM_MATCH') throw new PricingError('InvalidParameterException', `Filter type ${f.Type} is not supported here`);
    }
    const instanceType = filters.find(f => f.Field === 'instanceType')?.Value;
    // Like the real service, an unfiltered EC2 query is too broad to answer here: the handler always pins the type.
    if (!instanceType) throw new PricingError('InvalidParameterException', 'this emulator answers EC2 queries filtered by instanceType');
    const matching = this.productsOf(instanceType).filter(product => filters.every(f => product.product.attributes[f.Field] === f.Value));
    const start = p.NextToken ? Number(p.NextToken) : 0;
    const size = p.MaxResults ?? PAGE_SIZE;
    const page = matching.slice(start, start + size);
    const next = start + size < matching.length ? String(start + size) : undefined;
    return { FormatVersion: p.FormatVersion ?? 'aws_v1', PriceList: page.map(product => JSON.stringify(product)), ...(next ? { NextToken: next } : {}) };
  }

  private productsOf(instanceType: string): PriceListDocument[] {
    const linux = Number(this.linuxRate(instanceType));
    const products: PriceListDocument[] = [];
    for (const [regionCode, location] of Object.entries(REGION_NAMES)) {
      for (const { os, sw, uplift } of OPERATING_SYSTEMS) {
        for (const tenancy of ['Shared', 'Dedicated']) {
          for (const capacitystatus of CAPACITY_STATUSES) {
            for (const licenseModel of os === 'Windows' ? ['No License required', 'Bring your own license'] : ['No License required']) {
              const sku = `${instanceType}.${regionCode}.${os}.${sw}.${tenancy}.${capacitystatus}.${licenseModel}`.replace(/[^A-Za-z0-9]/g, '').slice(0, 40).toUpperCase();
              const rate = licenseModel === 'Bring your own license' ? linux : linux * (1 + uplift) * (tenancy === 'Dedicated' ? 1.1 : 1);
              products.push(document(sku, rate.toFixed(10), {
                instanceType, regionCode, location, operatingSystem: os, preInstalledSw: sw, tenancy, capacitystatus, licenseModel,
                servicecode: 'AmazonEC2', productFamily: 'Compute Instance',
              }));
            }
          }
        }
      }
    }
    return products;
  }

  private error(error: PricingError): RawResponse {
    return { status: error.status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: error.type, Message: error.message }) };
  }
}

interface PriceListDocument {
  readonly product: { readonly productFamily: string; readonly attributes: Record<string, string>; readonly sku: string };
  readonly serviceCode: string;
  readonly terms: Record<string, Record<string, unknown>>;
  readonly version: string;
  readonly publicationDate: string;
}

/** One product as the Price List writes it: the On-Demand term has one hourly dimension; a Reserved term rides along. */
function document(sku: string, usdPerHour: string, attributes: Record<string, string>): PriceListDocument {
  const onDemand = `${sku}.JRTCKXETXF`;
  const reserved = `${sku}.6QCMYABX3D`;
  return {
    product: { productFamily: 'Compute Instance', attributes, sku },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        [onDemand]: {
          priceDimensions: {
            [`${onDemand}.6YS6EN2CT7`]: {
              unit: 'Hrs', endRange: 'Inf', beginRange: '0', appliesTo: [], rateCode: `${onDemand}.6YS6EN2CT7`,
              description: `$${usdPerHour} per On Demand ${attributes.operatingSystem} ${attributes.instanceType} Instance Hour`,
              pricePerUnit: { USD: usdPerHour },
            },
          },
          sku, effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: 'JRTCKXETXF', termAttributes: {},
        },
      },
      Reserved: {
        [reserved]: {
          priceDimensions: {
            [`${reserved}.2TG2D8R56U`]: { unit: 'Quantity', pricePerUnit: { USD: (Number(usdPerHour) * 8760 * 0.6).toFixed(2) }, description: 'Upfront Fee' },
          },
          sku, effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: '6QCMYABX3D', termAttributes: { LeaseContractLength: '1yr', PurchaseOption: 'All Upfront' },
        },
      },
    },
    version: '20261101000000',
    publicationDate: '2026-11-01T00:00:00Z',
  };
}
