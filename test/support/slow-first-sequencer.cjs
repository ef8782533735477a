// Jest orders suites by their last run's duration, which a fresh machine has not recorded yet, and
// then by file size. The suites below take longest whatever their size (the consumer suite installs
// packages from the registry; the chaos suites run thousands of deliveries), so on 2 cores they start
// first and the others fill the second worker, instead of one of them starting last.
const Sequencer = require('@jest/test-sequencer').default;

const SLOWEST_FIRST = ['test/consumer/consumer.test.ts', 'test/local/aws/chaos.test.ts'];

module.exports = class SlowestFirst extends Sequencer {
  sort(tests) {
    const rank = test => {
      const index = SLOWEST_FIRST.findIndex(suite => test.path.endsWith(suite));
      return index < 0 ? SLOWEST_FIRST.length : index;
    };
    const sorted = super.sort(tests);
    return sorted.map((test, order) => ({ test, order })).sort((a, b) => rank(a.test) - rank(b.test) || a.order - b.order).map(x => x.test);
  }
};
