/**
 * isComplete's Lambda entry (bundled as assets/capacity-block-handler/is-complete.js): it only reads
 * EC2 while the payment clears, so it loads neither the claim library nor the purchase code.
 */
export { isComplete, clock, hooks, timeouts, retryPolicy } from './index';
