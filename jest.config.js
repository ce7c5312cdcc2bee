/** Two suites: fast pure unit tests, and end-to-end tests against the local fleet with the real Pulumi CLI. */
const tsJest = { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] };
module.exports = {
    testSequencer: "<rootDir>/test/sequencer.js",
    projects: [
        {
            displayName: "unit",
            testMatch: ["<rootDir>/test/unit/**/*.test.ts"],
            transform: tsJest,
            testEnvironment: "node",
        },
        {
            displayName: "e2e",
            testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
            transform: tsJest,
            testEnvironment: "node",
            slowTestThreshold: 600,
        },
    ],
};
