// Node.js 20 runs everything in this repository, but two tools print a banner about it on every run:
// jsii a framed end-of-life box, the AWS SDK an 8-line warning once per module registry (in every Jest
// suite that makes a client, twice in the rehearsal). `npm run build`, which `npm test` and `npm start`
// run first, says it once in one line; every script turns the banners off with the tools' own switches,
// for itself and the processes it starts. README: "Node.js versions" says the same.
const NODE_THE_SDK_WILL_NEED = 22;

function silenceNodeBanners() {
  const major = process.versions.node.split('.')[0];
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ??= major;
  process.env.JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION ??= '1';
}

/** The one line, where it applies. */
function nodeNotice() {
  if (Number(process.versions.node.split('.')[0]) >= NODE_THE_SDK_WILL_NEED) return undefined;
  return `Node.js ${process.version}: past its end of life; everything here runs on it, but jsii no longer supports it and AWS SDK `
    + `releases after the first week of January 2027 need Node.js ${NODE_THE_SDK_WILL_NEED}: use Node.js 22 or 24 (README: Node.js versions).`;
}

module.exports = { nodeNotice, silenceNodeBanners };
