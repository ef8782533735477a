// The AWS SDK prints its Node.js notice once per module registry, and Jest gives every suite its own:
// on Node.js 20 that was the same 8-line warning in each suite that makes a client. `npm test` says it
// once, in one line, in its build; here the SDK's own switch turns the repeats off for the workers.
const { silenceNodeBanners } = require('../../scripts/node-notices.cjs');

module.exports = () => silenceNodeBanners();
