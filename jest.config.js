/** Jest runs TypeScript through ts-jest in CommonJS (see ../shared/stack-notes.md).
 *  Type errors are caught once by `tsc --noEmit` in `npm test`, so ts-jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  setupFiles: ['<rootDir>/test/setup-env.js'],
};
