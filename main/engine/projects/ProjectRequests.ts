import path from 'node:path';
import type { JobResult, ProjectRequestName, RequestParams, RequestResult } from '../../contract/contract';
import { PROJECT_REQUESTS } from '../../contract/contract';
import { badArgument } from '../errors';
import { ProjectStore } from './ProjectStore';

/**
 * The contract's project requests over a ProjectStore in `<userDataDir>/projects`. An engine
 * (EngineService, the test fake) delegates those requests here, and passes each finished
 * job's result through `saveResult` before announcing it, so a result the UI has seen is on disk.
 */
export class ProjectRequests {
  readonly store: ProjectStore;

  constructor(userDataDir: string) {
    this.store = new ProjectStore(path.join(userDataDir, 'projects'));
  }

  static handles(method: string): method is ProjectRequestName {
    return (PROJECT_REQUESTS as readonly string[]).includes(method);
  }

  async handle<K extends ProjectRequestName>(method: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    const p = (params ?? {}) as Record<string, unknown>;
    const projectId = () => {
      if (typeof p.projectId !== 'string') throw badArgument(`${method} needs { projectId: string, … }.`);
      return p.projectId;
    };
    switch (method) {
      case 'createProject':
        return (await this.store.create(p.image as { base64: string; name?: string })) as RequestResult<K>;
      case 'listProjects':
        return (await this.store.list()) as RequestResult<K>;
      case 'openProject':
        return (await this.store.open(projectId())) as RequestResult<K>;
      case 'saveMask':
        await this.store.saveMask(projectId(), p.mask as { base64: string });
        return { saved: true } as RequestResult<K>;
      case 'saveHistory':
        await this.store.saveHistory(projectId(), p.history as Record<string, unknown>);
        return { saved: true } as RequestResult<K>;
      case 'saveSettings':
        await this.store.saveSettings(projectId(), p.settings as Record<string, unknown>);
        return { saved: true } as RequestResult<K>;
      default:
        throw badArgument(`"${String(method)}" is not a project request.`);
    }
  }

  /**
   * Saves a job's result into `projectId` (when given) and returns the event to send, marked
   * `saved`. Rejects with the storage error; the caller then reports the job as failed, since
   * the user asked for a result that is kept.
   */
  async saveResult(projectId: string | undefined, result: JobResult): Promise<JobResult> {
    if (projectId === undefined) return result;
    const saved = await this.store.addResult(projectId, { jobId: result.jobId, image: result.image, parameters: result.parameters });
    return { ...result, saved: { projectId, resultId: saved.id } };
  }

  /** Checks a generate request's projectId before the job is queued, so a typo fails at once. */
  async checkProject(projectId: string | undefined): Promise<void> {
    if (projectId === undefined) return;
    await this.store.check(projectId);
  }
}
