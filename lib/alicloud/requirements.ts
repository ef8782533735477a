/**
 * The ROS CDK packages `cdk-capacity-reservations/alicloud` builds on. They are the user's to install
 * (they need constructs@3, so they cannot be dependencies of this jsii package); without them this
 * subpath stops at import with one line naming what to install. The ranges are this package's own
 * devDependencies (a spec keeps them equal, and the README's install line names them).
 */
export const ROS_CDK_MODULES: Readonly<Record<string, string>> = {
  '@alicloud/ros-cdk-core': '^1.12.0',
  '@alicloud/ros-cdk-ros': '^1.11.0',
  '@alicloud/ros-cdk-fc3': '^1.11.0',
  '@alicloud/ros-cdk-ram': '^1.12.0',
};

const missing = Object.keys(ROS_CDK_MODULES).filter(name => {
  try {
    require.resolve(name);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  throw new Error(`cdk-capacity-reservations/alicloud needs the ROS CDK, which your app installs: npm install ${missing.map(name => `${name}@'${ROS_CDK_MODULES[name]}'`).join(' ')}`);
}
