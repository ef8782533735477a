import * as path from 'path';

/**
 * What `cdk-capacity-reservations/local` needs at run time beyond Node.js, and who installs it.
 *
 * - Bundled at build time (assets/local-vendor): the XML writer of the EC2 emulator and the ACS3
 *   signer the ECS emulator checks signatures with. Small; nothing for anyone to install.
 * - The user's, for the AWS rehearsal and chaos only: the SDK clients the Lambda bundle and the
 *   Provider framework runtime call (Lambda's Node.js runtime provides them in AWS), aws-cdk-lib for
 *   that runtime, and dynalite for the claims table. An Alibaba-only user needs none of them, so
 *   nothing here is loaded until an AWS rehearsal starts. The ranges are this package's own
 *   devDependencies (a spec keeps them equal).
 */
export const AWS_REHEARSAL_MODULES: Readonly<Record<string, string>> = {
  'aws-cdk-lib': '^2.276.0',
  '@aws-sdk/client-ec2': '^3.1169.0',
  '@aws-sdk/client-sagemaker': '^3.1142.0',
  '@aws-sdk/client-dynamodb': '^3.1164.0',
  '@aws-sdk/lib-dynamodb': '^3.1162.0',
  '@aws-sdk/util-dynamodb': '^3.996.9',
  '@aws-sdk/client-lambda': '^3.1164.0',
  '@aws-sdk/client-sfn': '^3.1164.0',
  '@aws-sdk/client-cloudformation': '^3.1169.0',
  '@aws-sdk/client-eventbridge': '^3.1178.0',
  '@aws-sdk/client-pricing': '^3.1133.0',
  'dynalite': '^4.0.0',
};

/** Fails in one line, naming every missing module and the command that installs them. */
export function requireAwsRehearsalModules(feature: string): void {
  const missing = Object.keys(AWS_REHEARSAL_MODULES).filter(name => !resolvable(name));
  if (missing.length === 0) return;
  const install = missing.map(name => `${name}@'${AWS_REHEARSAL_MODULES[name]}'`).join(' ');
  throw new Error(`cdk-capacity-reservations/local: ${feature} runs the Lambda bundle as Lambda would and needs ${missing.join(', ')}, which your app installs: npm install --save-dev ${install}`);
}

function resolvable(name: string): boolean {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch (error) {
    // A package whose exports hide package.json is still installed.
    return (error as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
  }
}

/** The build-time bundle of the emulators' helper libraries (scripts/local-vendor.ts). */
export interface LocalVendor {
  readonly XMLBuilder: new (options: object) => { build(value: object): string };
  readonly OpenApiUtil: { getAuthorization(request: object, signatureAlgorithm: string, payload: string, accessKeyId: string, accessKeySecret: string): string };
  readonly unzipSync: (zip: Uint8Array) => Record<string, Uint8Array>;
}

let vendor: LocalVendor | undefined;

export function localVendor(): LocalVendor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a built bundle in this package's assets
  vendor ??= require(path.join(__dirname, '..', '..', 'assets', 'local-vendor', 'index.js')) as LocalVendor;
  return vendor;
}
