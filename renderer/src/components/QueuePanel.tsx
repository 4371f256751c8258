import { ActionIcon, Alert, Badge, Group, Image, Paper, Progress, Stack, Text, Tooltip } from '@mantine/core';
import { isActive, isPending, shownStatus, type JobStatus, type QueuedJob } from '../editor/JobQueue';

const STATUS: Record<JobStatus, { label: string; color: string }> = {
  submitting: { label: 'sending', color: 'gray' },
  queued: { label: 'queued', color: 'gray' },
  running: { label: 'running', color: 'blue' },
  done: { label: 'done', color: 'teal' },
  failed: { label: 'failed', color: 'red' },
  cancelled: { label: 'cancelled', color: 'yellow' },
};

const KIND: Record<QueuedJob['kind'], string> = { txt2img: 'Generate', img2img: 'Edit photo', inpaint: 'Inpaint', invert: 'Inversion', reedit: 'Re-edit' };
const STAGE: Record<NonNullable<QueuedJob['stage']>, string> = { invert: 'Inverting', tune: 'Tuning', edit: 'Editing' };

const kindLabel = (job: QueuedJob) => (job.controlled ? `Structure${job.kind === 'txt2img' ? '' : ` · ${KIND[job.kind]}`}` : KIND[job.kind]);

/**
 * What a job that has not started its steps waits for: an earlier job still to finish, or (when
 * it is first in line) the engine's preparation — loading the model, encoding the photo.
 */
export function waitingFor(job: QueuedJob, jobs: readonly QueuedJob[]): string {
  const ahead = jobs.some((other) => other.localId < job.localId && isActive(other));
  return ahead ? 'Waiting for the job before it' : 'Starting: preparing the model and inputs';
}

/** The jobs of this session, newest first: status, progress with a preview, cancel, the engine's error. */
export function QueuePanel({ jobs, onCancel, onDismiss }: { jobs: QueuedJob[]; onCancel: (job: QueuedJob) => void; onDismiss: (job: QueuedJob) => void }) {
  if (jobs.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No jobs yet. Jobs run one at a time; queue as many as you like.
      </Text>
    );
  }
  return (
    <Stack gap="xs" aria-label="Queue">
      {[...jobs].reverse().map((job) => {
        const shown = shownStatus(job);
        const status = STATUS[shown];
        return (
          <Paper key={job.localId} withBorder p="xs" radius="md" data-testid="job" data-status={shown}>
            <Group gap="xs" wrap="nowrap" align="flex-start">
              {job.previewUrl ? (
                <Image src={job.previewUrl} alt={`Preview at step ${job.step}`} w={48} h={48} radius="sm" fit="cover" />
              ) : (
                <div style={{ width: 48, height: 48, borderRadius: 6, background: 'var(--mantine-color-default-hover)' }} />
              )}
              <Stack gap={4} style={{ flex: 1, minWidth: 0 }}>
                <Group gap={6} justify="space-between" wrap="nowrap">
                  <Text size="sm" fw={500} truncate style={{ flex: 1 }}>
                    Job {job.localId} · {kindLabel(job)}
                  </Text>
                  <Badge size="sm" variant="light" color={status.color} style={{ flexShrink: 0 }}>
                    {status.label}
                  </Badge>
                </Group>
                <Text size="xs" c="dimmed" truncate title={job.prompt}>
                  {job.prompt || '(no prompt)'}
                  {job.kind === 'invert' || job.kind === 'reedit' ? '' : ` · seed ${job.seed}`}
                </Text>
                {(shown === 'running' || shown === 'queued') && (
                  <Stack gap={2}>
                    <Progress aria-label={`Progress of job ${job.localId}`} value={job.totalSteps ? (100 * job.step) / job.totalSteps : 0} size="sm" animated={job.status === 'running'} />
                    <Text size="xs" c="dimmed" aria-live="polite">
                      {job.status === 'running'
                        ? `${job.stage ? `${STAGE[job.stage]} · s` : 'S'}tep ${job.step} of ${job.totalSteps}`
                        : waitingFor(job, jobs)}
                    </Text>
                  </Stack>
                )}
              </Stack>
              {isPending(job) ? (
                <Tooltip label="Cancel this job">
                  <ActionIcon variant="subtle" color="gray" aria-label={`Cancel job ${job.localId}`} onClick={() => onCancel(job)}>
                    ✕
                  </ActionIcon>
                </Tooltip>
              ) : (
                <Tooltip label="Remove from the list">
                  <ActionIcon variant="subtle" color="gray" aria-label={`Remove job ${job.localId}`} onClick={() => onDismiss(job)}>
                    ✕
                  </ActionIcon>
                </Tooltip>
              )}
            </Group>
            {job.status === 'failed' && job.error && (
              <Alert color="red" variant="light" mt="xs" p="xs" title={`Failed (${job.error.code})`}>
                <Text size="xs">{job.error.message}</Text>
              </Alert>
            )}
          </Paper>
        );
      })}
    </Stack>
  );
}
