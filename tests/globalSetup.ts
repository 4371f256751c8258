import { TEST_MODEL_VARIANTS, testModelDir } from './fixtures/models';

// Builds the generated test models once per test run (see tests/fixtures/models.ts); folders
// already complete for this generator version are reused.
export default async function setup(): Promise<void> {
  for (const variant of TEST_MODEL_VARIANTS) await testModelDir(variant);
}
