/**
 * onEvent's Lambda entry (bundled as assets/capacity-block-handler/index.js): it decides and buys, under
 * the request's claim. isComplete has its own entry (is-complete.ts), which carries no claim library.
 * Both export the seams the local rehearsal runs them on simulated time with.
 */
export { onEvent, clock, hooks, timeouts, claimPolicy, retryPolicy, resourceKeys, providerTimings, purchasePolicy } from './index';
