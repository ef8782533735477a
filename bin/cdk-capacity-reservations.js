#!/usr/bin/env node
// `npx cdk-capacity-reservations plan`: the CLI is bundled with its SDKs at build time (assets/cli).
require('../assets/cli/index.js').main(process.argv.slice(2)).then(
  code => process.exit(code),
  error => {
    process.stderr.write(`cdk-capacity-reservations: ${error && error.message ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
