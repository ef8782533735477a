export * from './faults';
export * from './ec2-emulator';
export * from './ecs-emulator';
export * from './rehearsal';
export * from './chaos';
export * from './templates';
