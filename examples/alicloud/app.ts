import * as ros from '@alicloud/ros-cdk-core';
import { GpuPoolStack } from './stack';

// Writes ros.out/GpuPool.template.json: deploy it from the ROS console or `aliyun ros CreateStack` as it is.
const app = new ros.App({ outdir: process.env.ROS_OUTDIR ?? 'ros.out' });
new GpuPoolStack(app, 'GpuPool');
app.synth();
