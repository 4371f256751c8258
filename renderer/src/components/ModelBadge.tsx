import { Badge, Group, Tooltip } from '@mantine/core';
import type { ModelInfo } from '../../../main/contract/contract';
import type { ErrorData } from '../../../main/engine/errors';

/** The engine's model as the editor knows it: asked for, loaded, or failed with the engine's error. */
export type ModelState = { status: 'loading' } | { status: 'ready'; info: ModelInfo } | { status: 'error'; error: ErrorData };

/**
 * Which model is loaded; the random-weight test model is always labelled as such. A model that
 * failed to load says so, with the engine's message in the tooltip (the editor's alert offers
 * Retry) — never an endless "Loading".
 */
export function ModelBadge({ state, compact = false }: { state: ModelState; /** A narrow header: one short badge, the rest in its tooltip. */ compact?: boolean }) {
  if (state.status === 'loading') {
    return (
      <Badge color="gray" variant="light" role="status" aria-label="Loading model">
        Loading model…
      </Badge>
    );
  }
  if (state.status === 'error') {
    return (
      <Tooltip label={`${state.error.message} (${state.error.code})`} multiline w={360} withArrow>
        <Badge color="red.9" variant="filled" tabIndex={0} data-testid="model-error" aria-label={`Model unavailable: ${state.error.message}`}>
          Model unavailable
        </Badge>
      </Tooltip>
    );
  }
  const model = state.info;
  const where = `${model.name} — ${model.dir} · ${model.provider}${model.inpaintingUnet ? ' · inpainting UNet' : ''}`;
  if (compact && model.isTestModel) {
    // The short label still says "test model"; the name and what random weights mean are in the tooltip.
    return (
      <Tooltip label={`${where}. Random weights: results are noise-like patterns, useful only to try the editor.`} multiline w={320}>
        <Badge size="sm" color="orange.5" c="dark.9" variant="filled" tabIndex={0} data-testid="test-model" aria-label={`Model: ${model.name}, random-weight test model`} style={{ flexShrink: 0 }}>
          test model
        </Badge>
      </Tooltip>
    );
  }
  return (
    <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
      <Tooltip label={where} multiline maw={420}>
        <Badge variant="light" tabIndex={0} aria-label={`Model: ${model.name}`} data-testid="model-name" tt="none" miw={64} style={{ flexShrink: 1 }}>
          {model.name}
        </Badge>
      </Tooltip>
      {model.isTestModel && (
        <Tooltip label="Random weights: results are noise-like patterns, useful only to try the editor. Install a real model to make pictures." multiline w={300}>
          {/* Dark text: white on Mantine's filled orange is 3.6:1, below AA. */}
          <Badge color="orange.5" c="dark.9" variant="filled" tabIndex={0} data-testid="test-model" style={{ flexShrink: 0 }}>
            random-weight test model
          </Badge>
        </Tooltip>
      )}
    </Group>
  );
}
