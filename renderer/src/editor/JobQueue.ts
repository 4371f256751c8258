import type { ErrorData } from '../../../main/engine/errors';
import type { JobKind, JobProgress } from '../../../main/contract/contract';

export type JobStatus = 'submitting' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
/** What a queued job does: a generate kind, an edit by inversion, or a re-edit from a cached one. */
export type QueueKind = JobKind | 'invert' | 'reedit';

export interface QueuedJob {
  /** Ours, known before the engine answers; `jobId` is the engine's. */
  localId: number;
  jobId?: string;
  kind: QueueKind;
  /** Guided by ControlNets (Structure mode). */
  controlled?: boolean;
  prompt: string;
  seed: number;
  status: JobStatus;
  step: number;
  totalSteps: number;
  /** Edits by inversion: the stage the step counts in. */
  stage?: JobProgress['stage'];
  /** data: URL of the latest preview. */
  previewUrl?: string;
  error?: ErrorData;
  resultId?: string;
  /**
   * Cancel was clicked: the job shows as cancelled at once, before the engine confirms (its
   * CANCELLED failure ends it for real); cleared if the engine could not cancel it.
   */
  cancelRequested?: boolean;
}

export type JobEvent =
  | { type: 'submitted'; job: Omit<QueuedJob, 'status' | 'step'> }
  | { type: 'accepted'; localId: number; jobId: string }
  | { type: 'rejected'; localId: number; error: ErrorData }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'result'; jobId: string; resultId: string }
  | { type: 'failed'; jobId: string; error: ErrorData }
  | { type: 'cancelRequested'; localId: number }
  | { type: 'cancelRefused'; localId: number };

export interface JobQueueState {
  jobs: QueuedJob[];
  /** Events naming a job id not yet returned by generate(), replayed when it is. */
  early: JobEvent[];
}

export const EMPTY_QUEUE: JobQueueState = { jobs: [], early: [] };

/** Statuses that can still change. */
export const isActive = (j: QueuedJob) => j.status === 'submitting' || j.status === 'queued' || j.status === 'running';

/** Still to run as far as the user is concerned: active, and no cancel asked for. */
export const isPending = (j: QueuedJob) => isActive(j) && !j.cancelRequested;

/** The status the queue shows: cancelled from the click on, the engine's otherwise. */
export const shownStatus = (j: QueuedJob): JobStatus => (j.cancelRequested && isActive(j) ? 'cancelled' : j.status);

/**
 * The queue as the UI shows it, as a pure reducer over what the UI did and what the engine
 * said. The engine runs jobs one at a time; a job is "queued" until its first progress event.
 */
export function updateJobs(state: JobQueueState, event: JobEvent): JobQueueState {
  switch (event.type) {
    case 'submitted':
      return { ...state, jobs: [...state.jobs, { ...event.job, status: 'submitting', step: 0 }] };
    case 'accepted': {
      const jobs = state.jobs.map((j) => (j.localId === event.localId ? { ...j, jobId: event.jobId, status: 'queued' as const } : j));
      const mine = state.early.filter((e) => eventJobId(e) === event.jobId);
      let next: JobQueueState = { jobs, early: state.early.filter((e) => !mine.includes(e)) };
      for (const e of mine) next = updateJobs(next, e);
      return next;
    }
    case 'cancelRequested':
    case 'cancelRefused': {
      const requested = event.type === 'cancelRequested';
      return { ...state, jobs: state.jobs.map((j) => (j.localId === event.localId && isActive(j) ? { ...j, cancelRequested: requested } : j)) };
    }
    case 'rejected':
      return { ...state, jobs: state.jobs.map((j) => (j.localId === event.localId ? { ...j, status: 'failed', error: event.error } : j)) };
    default: {
      const jobId = eventJobId(event)!;
      if (!state.jobs.some((j) => j.jobId === jobId)) return { ...state, early: [...state.early, event] };
      return { ...state, jobs: state.jobs.map((j) => (j.jobId === jobId ? apply(j, event) : j)) };
    }
  }
}

function apply(job: QueuedJob, event: JobEvent): QueuedJob {
  if (!isActive(job)) return job; // a late event for a finished job changes nothing
  switch (event.type) {
    case 'progress':
      return {
        ...job,
        status: 'running',
        step: event.progress.step,
        totalSteps: event.progress.totalSteps,
        stage: event.progress.stage,
        previewUrl: event.progress.preview ? `data:image/png;base64,${event.progress.preview.pngBase64}` : job.previewUrl,
      };
    case 'result':
      return { ...job, status: 'done', step: job.totalSteps, resultId: event.resultId };
    case 'failed':
      return event.error.code === 'CANCELLED' ? { ...job, status: 'cancelled' } : { ...job, status: 'failed', error: event.error };
    default:
      return job;
  }
}

function eventJobId(e: JobEvent): string | undefined {
  if (e.type === 'progress') return e.progress.jobId;
  if (e.type === 'result' || e.type === 'failed') return e.jobId;
  return undefined;
}
