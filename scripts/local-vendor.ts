// The helper libraries of the local emulators, bundled into assets/local-vendor at build time so that
// `cdk-capacity-reservations/local` loads without them in the user's node_modules (lib/local/modules.ts).
export { XMLBuilder } from 'fast-xml-parser';
export { default as OpenApiUtil } from '@alicloud/openapi-util';
export { unzipSync } from 'fflate';
