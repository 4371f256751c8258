import fs from 'node:fs';
import type { ConditionType } from '../engine/control/ConditionType';
import { annotatorFile, isAnnotatorType } from '../engine/control/annotatorSlots';
import { defaultCacheRoot, ensureDefaultAnnotators } from '../engine/model/defaultModel';

/**
 * The models folder whose annotators/ a CLI reads `type`'s annotator from, as the app chooses
 * (see ControlResources.annotatorsDir): the user's `userModels` when it holds that annotator,
 * else — where `testFallback` allows it — the random-weight test annotators generated beside the
 * embedded model, said once per type on stderr; else `userModels`, so a missing annotator is
 * reported with the file it expects.
 */
export function annotatorsFor(
  type: ConditionType,
  userModels: string,
  opts: { testFallback: boolean; cli: string; noted?: Set<ConditionType> },
): string {
  if (!isAnnotatorType(type) || !opts.testFallback || fs.existsSync(annotatorFile(userModels, type))) return userModels;
  if (!opts.noted?.has(type)) {
    opts.noted?.add(type);
    process.stderr.write(
      `${opts.cli}: no ${type} annotator at ${annotatorFile(userModels, type)}; using a random-weight test annotator, whose maps show nothing real (see README.md, Models).\n`,
    );
  }
  return ensureDefaultAnnotators(defaultCacheRoot());
}
