/**
 * Runs test files in the order of their paths, on every machine. Jest's default order comes from its cache in
 * /tmp (failed files first, then the slowest): CI machines that keep one would run the end-to-end suites, which
 * share the fleet's hosts, in an order that depends on what ran there before.
 */
const Sequencer = require("@jest/test-sequencer").default;

class ByPath extends Sequencer {
    sort(tests) {
        return [...tests].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    }
}

module.exports = ByPath;
