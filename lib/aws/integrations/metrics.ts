import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';

/**
 * A metric of reserved capacity, the average over 5 minutes unless `props` says otherwise, attached
 * to `scope` (its stack's region and account): EC2 and SageMaker publish the same four metrics of
 * their reservations, each under its own namespace and dimension.
 */
export function reservationMetric(scope: IConstruct, namespace: string, dimensionsMap: Record<string, string>, metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic: cloudwatch.Stats.AVERAGE, ...props }).attachTo(scope);
}
