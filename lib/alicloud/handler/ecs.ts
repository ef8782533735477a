import OpenApi, * as $OpenApi from '@alicloud/openapi-client';
import OpenApiUtil from '@alicloud/openapi-util';
import * as $tea from '@alicloud/tea-typescript';
import * as $Util from '@alicloud/tea-util';
import { log } from '../../shared/handler-log';

/** FC passes the function role's STS credentials in `context.credentials`. */
export interface FcCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** Calls one ECS RPC action (2014-05-26) and returns the parsed JSON body. */
export type EcsCall = (action: string, query: Record<string, unknown>) => Promise<Record<string, any>>;

export interface EcsError {
  readonly code: string;
  readonly message: string;
  readonly statusCode?: number;
}

/**
 * Throttles, 5xx and dropped connections: safe to retry, since every create carries a ClientToken
 * and every other call is a read or idempotent.
 */
const RETRYABLE = /^(Throttling|ServiceUnavailable|InternalError|UnknownError|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE)/;

/**
 * A new RAM role's permissions take a while to reach ECS: right after the stack creates the role,
 * calls may get Forbidden.RAM / NoPermission. Those are retried for a bounded time, then reported.
 */
const RAM_PROPAGATION = /^(Forbidden\.RAM|NoPermission)$/;
export const ramPropagationPolicy = { retryForMs: 60_000, intervalMs: 5_000 };

/**
 * Retries after a throttle or 5xx, with tea's exponential backoff (the client retries only network
 * errors). `now` and `sleep` are the clock the waits run on: the local rehearsal puts them on its
 * simulated clock, so a throttled call costs no real time there.
 */
export const retryPolicy: { maxAttempts: number; backoff: Record<string, unknown>; now: () => number; sleep: (ms: number) => Promise<void> } = {
  maxAttempts: 4,
  // tea's exponential policies read initial/multiplier/max (ms): 0.5-1.5 s, then 1-3 s, 2-6 s.
  backoff: { policy: 'exponential_random', initial: 1_000, multiplier: 1, max: 8_000 },
  now: () => Date.now(),
  sleep: ms => $tea.sleep(ms),
};

/**
 * The official OpenAPI client (ACS3-HMAC-SHA256 signing) with the generic callApi, so the full ECS
 * SDK stays out of the inlined bundle. ALIBABA_CLOUD_ECS_ENDPOINT (host[:port]) and
 * ALIBABA_CLOUD_ECS_PROTOCOL (http|https) override the regional endpoint, e.g. for the local emulator.
 */
export function createEcsCall(credentials: FcCredentials, regionId: string): EcsCall {
  return createRpcCall(credentials, regionId, {
    version: '2014-05-26',
    endpoint: process.env.ALIBABA_CLOUD_ECS_ENDPOINT || `ecs.${regionId}.aliyuncs.com`,
    protocol: process.env.ALIBABA_CLOUD_ECS_PROTOCOL || 'https',
  });
}

/**
 * ROS (2019-09-10) through the same client, for GetStack only. ALIBABA_CLOUD_ROS_ENDPOINT and
 * ALIBABA_CLOUD_ROS_PROTOCOL override the regional endpoint, e.g. for the local ROS engine model.
 */
export function createRosCall(credentials: FcCredentials, regionId: string): EcsCall {
  return createRpcCall(credentials, regionId, {
    version: '2019-09-10',
    endpoint: process.env.ALIBABA_CLOUD_ROS_ENDPOINT || `ros.${regionId}.aliyuncs.com`,
    protocol: process.env.ALIBABA_CLOUD_ROS_PROTOCOL || 'https',
  });
}

function createRpcCall(credentials: FcCredentials, regionId: string, service: { version: string; endpoint: string; protocol: string }): EcsCall {
  const client = new OpenApi(new $OpenApi.Config({
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    regionId,
    endpoint: service.endpoint,
    protocol: service.protocol,
  }));
  // Network-level retries by the client itself; 'fixed' is the policy it reads `backoffPeriod` (ms) for.
  const runtime = new $Util.RuntimeOptions({ autoretry: true, maxAttempts: 3, backoffPolicy: 'fixed', backoffPeriod: 1_000 });
  return async (action, query) => {
    const params = new $OpenApi.Params({
      action,
      version: service.version,
      protocol: 'HTTPS',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const request = new $OpenApi.OpenApiRequest({ query: OpenApiUtil.query({ RegionId: regionId, ...query }) });
    let deniedSince: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await client.callApi(params, request, runtime)).body as Record<string, any>;
      } catch (error) {
        const e = asEcsError(error);
        if (RAM_PROPAGATION.test(e.code)) {
          deniedSince ??= retryPolicy.now();
          if (retryPolicy.now() - deniedSince >= ramPropagationPolicy.retryForMs) throw error;
          log('ECS denied the call; the function role may be too new for RAM to have propagated it; retrying', { action, code: e.code });
          await retryPolicy.sleep(ramPropagationPolicy.intervalMs);
          continue;
        }
        if (!RETRYABLE.test(e.code) || attempt >= retryPolicy.maxAttempts) throw error;
        log('ECS asked us to slow down or failed transiently; retrying', { action, code: e.code, attempt });
        await retryPolicy.sleep($tea.getBackoffTime(retryPolicy.backoff, attempt));
      }
    }
  };
}

/** Throttled, 5xx or no answer (after the client's own retries): whether ECS acted is unknown. */
export function outcomeUnknown(error: unknown): boolean {
  return RETRYABLE.test(asEcsError(error).code);
}

export function asEcsError(error: unknown): EcsError {
  const e = error as { code?: unknown; message?: unknown; data?: { statusCode?: number; Message?: string } };
  return {
    code: typeof e?.code === 'string' && e.code !== 'undefined' ? e.code : 'Error',
    message: e?.data?.Message ?? (typeof e?.message === 'string' ? e.message : String(error)),
    statusCode: e?.data?.statusCode,
  };
}
