import { describe, expect, it } from 'vitest';
import { waitingFor } from '../../../renderer/src/components/QueuePanel';
import type { JobStatus, QueuedJob } from '../../../renderer/src/editor/JobQueue';

const job = (localId: number, status: JobStatus): QueuedJob => ({ localId, kind: 'img2img', prompt: 'x', seed: 1, status, step: 0, totalSteps: 4 });

describe('QueuePanel: what a job not yet running waits for', () => {
  it('the first in line is starting (the engine prepares), not waiting for a job before it', () => {
    // The only job: it said "Waiting for the job before it" while the model loaded.
    expect(waitingFor(job(1, 'queued'), [job(1, 'queued')])).toBe('Starting: preparing the model and inputs');
    // Earlier jobs that ended do not hold it up.
    const done = [job(1, 'done'), job(2, 'failed'), job(3, 'cancelled'), job(4, 'queued')];
    expect(waitingFor(done[3], done)).toBe('Starting: preparing the model and inputs');
  });

  it('a job behind a running or queued one waits for it', () => {
    const line = [job(1, 'running'), job(2, 'queued'), job(3, 'queued')];
    expect(waitingFor(line[1], line)).toBe('Waiting for the job before it');
    expect(waitingFor(line[2], line)).toBe('Waiting for the job before it');
  });
});
