import { Json } from '../resources';

/**
 * What ROS's engine (ros-engine.ts) and the rehearsal that hosts the FC handler (rehearsal.ts)
 * share, in a module of its own so that neither imports the other.
 */

/** Invokes the FC handler as ROS would and returns the answer it POSTed to the ResponseURL. */
export type RosInvoke = (event: Json) => Promise<Json>;

/** ROS's side of the ResponseURL: once ROS has given up on a request, answers to it are refused. */
export interface RosResponder {
  /** ROS stops waiting for the request (its timeout passed, or the stack rolled back without it). */
  giveUp(requestId: string): void;
  /** Answers ROS refused, by RequestId. */
  readonly refused: string[];
  /** The answer ROS took for the request: the first it accepted. */
  answerOf(requestId: string): Json | undefined;
  /** Resolves with the first answer ROS accepts for the request (ROS moves on then, whatever the function does after). */
  answered(requestId: string): Promise<Json>;
  /** The stack's status, as ROS GetStack answers it to the handler. */
  setStatus(stackId: string, status: string): void;
  /** GetStack answers Throttling.User this many more times (a burst), then the status again. */
  throttleGetStack(times: number): void;
}
