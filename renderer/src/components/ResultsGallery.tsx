import { Badge, Button, Card, Group, Image, SimpleGrid, Stack, Text, Tooltip } from '@mantine/core';
import { stepsLabel } from '../editor/resultSteps';
import { consistencyExplanation, consistencyLabel, inversionMetricsLabel, rankingLabel, type ResultScores } from '../editor/resultScores';

export interface ResultItem {
  id: string;
  url: string;
  pngBase64: string;
  width: number;
  height: number;
  parameters: Record<string, unknown>;
  createdAt: string;
  /** 1-based, in arrival order within the project (or session). */
  number: number;
  scores: ResultScores;
}

export interface ResultsGalleryProps {
  results: ResultItem[];
  selectedId: string | null;
  onSelect: (r: ResultItem) => void;
  onReuse: (r: ResultItem) => void;
  onExport: (r: ResultItem) => void;
  onCopy: (r: ResultItem) => void;
  onUseAsPhoto: (r: ResultItem) => void;
}

export const resultAlt = (r: ResultItem) =>
  `Result ${r.number} (${r.parameters.seed === undefined ? '' : `seed ${String(r.parameters.seed)}, `}${stepsLabel(r.parameters) ?? '? steps'})`;

/** Consistency (with best-of ranking), or an inversion edit's η and metrics. */
function Scores({ r }: { r: ResultItem }) {
  const { consistency, metrics, eta } = r.scores;
  const ranking = consistency && rankingLabel(consistency);
  const measured = metrics && inversionMetricsLabel(metrics);
  if (!consistency && eta === undefined && !measured) return null;
  return (
    <Stack gap={2}>
      <Group gap={4}>
        {consistency && (
          <Tooltip label={consistencyExplanation(consistency)} multiline w={300} withArrow>
            <Badge size="sm" variant="light" color="grape" tt="none" tabIndex={0} data-testid="consistency" aria-label={`Consistency: ${consistencyLabel(consistency)}`}>
              {consistencyLabel(consistency)}
            </Badge>
          </Tooltip>
        )}
        {eta !== undefined && (
          <Tooltip label={eta === 0 ? 'η = 0: the inversion reconstructs the photo; the edit moves away from it as η grows.' : 'Edit strength: how far the prompt pulls away from the reconstruction.'} multiline w={260}>
            <Badge size="sm" variant="light" color="cyan" tt="none" data-testid="eta">
              {eta === 0 ? 'η 0 · reconstruction' : `η ${eta.toFixed(2)}`}
            </Badge>
          </Tooltip>
        )}
      </Group>
      {ranking && (
        <Text size="xs" c="dimmed" data-testid="ranking">
          Best of {consistency!.ranked!.length}: {ranking}
        </Text>
      )}
      {measured && (
        <Text size="xs" c="dimmed" data-testid="inversion-metrics">
          {measured}
        </Text>
      )}
    </Stack>
  );
}

function summary(p: Record<string, unknown>): string {
  const extra = (p.extra ?? {}) as { control?: { type?: string; scale?: number }[] };
  const control = Array.isArray(extra.control) ? extra.control.map((c) => `ControlNet ${String(c.type)} ×${String(c.scale ?? 1)}`).join(' + ') : undefined;
  const parts = [
    p.method ?? p.kind,
    control,
    stepsLabel(p),
    p.guidance !== undefined ? `CFG ${String(p.guidance)}` : undefined,
    p.strength !== undefined ? `strength ${String(p.strength)}` : undefined,
    p.scheduler,
  ];
  return parts.filter(Boolean).join(' · ');
}

/** Results of the project, newest first, each with its parameters and actions. */
export function ResultsGallery({ results, selectedId, onSelect, onReuse, onExport, onCopy, onUseAsPhoto }: ResultsGalleryProps) {
  if (results.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        Results appear here, with the settings that made them.
      </Text>
    );
  }
  return (
    <SimpleGrid cols={1} spacing="xs">
      {[...results].reverse().map((r) => {
        const selected = r.id === selectedId;
        return (
          <Card key={r.id} withBorder padding="xs" radius="md" style={{ borderColor: selected ? 'var(--mantine-primary-color-filled)' : undefined }} data-testid="result">
            <Card.Section>
              <button
                type="button"
                onClick={() => onSelect(r)}
                aria-label={`Show result ${r.number}`}
                aria-pressed={selected}
                style={{ display: 'block', width: '100%', padding: 0, border: 0, background: 'none', cursor: 'pointer' }}
              >
                <Image src={r.url} alt={resultAlt(r)} h={140} fit="contain" bg="var(--mantine-color-default-hover)" />
              </button>
            </Card.Section>
            <Stack gap={4} mt="xs">
              <Group justify="space-between" gap={4}>
                <Text size="sm" fw={500}>
                  Result {r.number}
                  {r.scores.eta === 0 ? ' · Reconstruction' : ''}
                </Text>
                {r.scores.eta === undefined && (
                  <Badge size="xs" variant="light">
                    seed {String(r.parameters.seed ?? '?')}
                  </Badge>
                )}
              </Group>
              {r.scores.eta === 0 ? (
                // The reconstruction shows the photo as inverted, not the target prompt's edit.
                <Text size="xs" data-testid="reconstruction-note" title={`Target prompt (edits at η > 0): ${String(r.parameters.prompt ?? '') || '(none)'}`}>
                  Reconstruction of the photo (η 0): no edit yet
                </Text>
              ) : (
                <Text size="xs" lineClamp={2} title={String(r.parameters.prompt ?? '')}>
                  {String(r.parameters.prompt ?? '') || '(no prompt)'}
                </Text>
              )}
              <Text size="xs" c="dimmed">
                {summary(r.parameters)} · {r.width}×{r.height}
              </Text>
              <Scores r={r} />
              <Group gap={4} mt={2}>
                <Tooltip label="Put this result's prompt, seed and settings back in the controls">
                  <Button size="compact-xs" variant="light" onClick={() => onReuse(r)} aria-label={`Reuse settings of result ${r.number}`}>
                    Reuse settings
                  </Button>
                </Tooltip>
                <Button size="compact-xs" variant="default" onClick={() => onExport(r)} aria-label={`Export result ${r.number}`}>
                  Export
                </Button>
                <Button size="compact-xs" variant="default" onClick={() => onCopy(r)} aria-label={`Copy result ${r.number}`}>
                  Copy
                </Button>
                <Tooltip label="Open this result as a new project to keep editing it">
                  <Button size="compact-xs" variant="default" onClick={() => onUseAsPhoto(r)} aria-label={`Edit result ${r.number} as a new photo`}>
                    Edit as photo
                  </Button>
                </Tooltip>
              </Group>
            </Stack>
          </Card>
        );
      })}
    </SimpleGrid>
  );
}
