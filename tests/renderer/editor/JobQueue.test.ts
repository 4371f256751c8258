import { describe, expect, it } from 'vitest';
import { EMPTY_QUEUE, isPending, shownStatus, updateJobs, type JobQueueState } from '../../../renderer/src/editor/JobQueue';

const submit = (s: JobQueueState, localId: number) =>
  updateJobs(s, { type: 'submitted', job: { localId, kind: 'img2img', prompt: 'p', seed: localId, totalSteps: 4 } });

describe('JobQueue', () => {
  it('follows a job from submitted to done, with progress and previews', () => {
    let s = submit(EMPTY_QUEUE, 1);
    expect(s.jobs[0].status).toBe('submitting');
    s = updateJobs(s, { type: 'accepted', localId: 1, jobId: 'job-1' });
    expect(s.jobs[0].status).toBe('queued');
    s = updateJobs(s, { type: 'progress', progress: { jobId: 'job-1', step: 2, totalSteps: 4, preview: { pngBase64: 'AAA', width: 1, height: 1 } } });
    expect(s.jobs[0]).toMatchObject({ status: 'running', step: 2, previewUrl: 'data:image/png;base64,AAA' });
    s = updateJobs(s, { type: 'result', jobId: 'job-1', resultId: 'r-1' });
    expect(s.jobs[0]).toMatchObject({ status: 'done', step: 4, resultId: 'r-1' });
    // A late event for a finished job changes nothing.
    expect(updateJobs(s, { type: 'failed', jobId: 'job-1', error: { code: 'INTERNAL', message: 'x' } }).jobs[0].status).toBe('done');
  });

  it('keeps several jobs apart, and tells cancelled from failed', () => {
    let s = submit(submit(submit(EMPTY_QUEUE, 1), 2), 3);
    s = updateJobs(s, { type: 'accepted', localId: 1, jobId: 'a' });
    s = updateJobs(s, { type: 'accepted', localId: 2, jobId: 'b' });
    s = updateJobs(s, { type: 'rejected', localId: 3, error: { code: 'BAD_ARGUMENT', message: 'no' } });
    s = updateJobs(s, { type: 'failed', jobId: 'a', error: { code: 'CANCELLED', message: 'stop' } });
    s = updateJobs(s, { type: 'failed', jobId: 'b', error: { code: 'OUT_OF_MEMORY', message: 'too big' } });
    expect(s.jobs.map((j) => j.status)).toEqual(['cancelled', 'failed', 'failed']);
    expect(s.jobs[1].error?.message).toBe('too big');
    expect(s.jobs[2].error?.code).toBe('BAD_ARGUMENT');
  });

  it('shows a job cancelled from the click, sending or running, and back as it was if the engine could not cancel it', () => {
    let s = submit(submit(EMPTY_QUEUE, 1), 2);
    // Cancelled while still being sent: no engine id yet.
    s = updateJobs(s, { type: 'cancelRequested', localId: 1 });
    expect(shownStatus(s.jobs[0])).toBe('cancelled');
    expect(isPending(s.jobs[0])).toBe(false);
    s = updateJobs(s, { type: 'accepted', localId: 1, jobId: 'a' });
    expect(shownStatus(s.jobs[0])).toBe('cancelled');
    s = updateJobs(s, { type: 'failed', jobId: 'a', error: { code: 'CANCELLED', message: 'stop' } });
    expect(s.jobs[0].status).toBe('cancelled');
    // The engine could not cancel a running job (it was ending): it shows running again, and its result counts.
    s = updateJobs(s, { type: 'accepted', localId: 2, jobId: 'b' });
    s = updateJobs(s, { type: 'progress', progress: { jobId: 'b', step: 3, totalSteps: 4 } });
    s = updateJobs(s, { type: 'cancelRequested', localId: 2 });
    expect(shownStatus(s.jobs[1])).toBe('cancelled');
    s = updateJobs(s, { type: 'cancelRefused', localId: 2 });
    expect(shownStatus(s.jobs[1])).toBe('running');
    expect(isPending(s.jobs[1])).toBe(true);
    s = updateJobs(s, { type: 'cancelRequested', localId: 2 });
    s = updateJobs(s, { type: 'result', jobId: 'b', resultId: 'r' });
    expect(shownStatus(s.jobs[1])).toBe('done');
  });

  it('replays events that arrive before generate() returned the job id', () => {
    let s = submit(EMPTY_QUEUE, 1);
    s = updateJobs(s, { type: 'progress', progress: { jobId: 'job-9', step: 1, totalSteps: 4 } });
    expect(s.early).toHaveLength(1);
    expect(s.jobs[0].status).toBe('submitting');
    s = updateJobs(s, { type: 'accepted', localId: 1, jobId: 'job-9' });
    expect(s.early).toHaveLength(0);
    expect(s.jobs[0]).toMatchObject({ status: 'running', step: 1 });
  });

  it('keeps the stage of an edit by inversion with its step', () => {
    let s = updateJobs(EMPTY_QUEUE, { type: 'submitted', job: { localId: 1, kind: 'invert', prompt: 'p', seed: 0, totalSteps: 3 } });
    s = updateJobs(s, { type: 'accepted', localId: 1, jobId: 'job-1' });
    s = updateJobs(s, { type: 'progress', progress: { jobId: 'job-1', step: 3, totalSteps: 3, stage: 'invert' } });
    expect(s.jobs[0]).toMatchObject({ status: 'running', stage: 'invert', step: 3, totalSteps: 3 });
    s = updateJobs(s, { type: 'progress', progress: { jobId: 'job-1', step: 1, totalSteps: 3, stage: 'tune' } });
    expect(s.jobs[0]).toMatchObject({ stage: 'tune', step: 1 });
  });
});
