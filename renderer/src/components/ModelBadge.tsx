import { Badge, Group, Tooltip } from '@mantine/core';
import type { ModelInfo } from '../../../main/contract/contract';

/** Which model is loaded; the random-weight test model is always labelled as such. */
export function ModelBadge({ model }: { model: ModelInfo | null }) {
  if (!model) return <Badge color="gray" variant="light">Loading model…</Badge>;
  return (
    <Group gap="xs">
      <Tooltip label={`${model.dir} · ${model.provider}${model.inpaintingUnet ? ' · inpainting UNet' : ''}`}>
        <Badge variant="light" aria-label={`Model: ${model.name}`}>
          {model.name}
        </Badge>
      </Tooltip>
      {model.isTestModel && (
        <Badge color="orange" variant="filled">
          random-weight test model
        </Badge>
      )}
    </Group>
  );
}
