// One config, three projects: unit specs sit beside the source, e2e scenarios live under test/, and
// browser scenarios (Debian Chromium driving the demo) under test/browser.
// The packages need no transform (they use jose 5, which ships CommonJS); only the test-only OpenID
// provider (oidc-provider and its own jose 6, ES modules only) is transpiled to CommonJS for Jest.
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|oidc-provider)/)'],
  moduleNameMapper: {
    // The packages' entry points, as their package.json `exports` name them (no deep imports).
    '^@nest-social-auth/core$': '<rootDir>/libs/social-auth/src',
    '^@nest-social-auth/core/openapi$': '<rootDir>/libs/social-auth/src/openapi',
    '^@nest-social-auth/testing$': '<rootDir>/libs/social-auth-testing/src',
  },
};

module.exports = {
  // testTimeout is a global option in Jest 30 (ignored inside a project): e2e hooks boot an app on a
  // fresh database and start fake providers, which takes seconds on a loaded 2-core machine.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/{src,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
    // Debian's Chromium drives the demo (test/browser); skipped loudly when absent outside CI.
    {
      ...common,
      displayName: 'browser',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
    },
  ],
};
