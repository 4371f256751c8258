import { Alert, Badge, Box, Center, Group, Image, Loader, Select, Slider, Stack, Text } from '@mantine/core';
import type { ConditionType, ControlNetInfo } from '../../../main/contract/contract';
import type { ErrorData } from '../../../main/engine/errors';
import { conditionTypeName } from '../editor/resultScores';
import { CONDITION_TYPES, MAX_BEST_OF, type Settings } from '../editor/settings';
import { NumberField } from './NumberField';

const TYPE_OPTIONS: { value: ConditionType; label: string }[] = CONDITION_TYPES.map((value) => ({
  value,
  label: { canny: 'Canny edges', depth: 'Depth', segmentation: 'Segmentation (ADE20K)', lineart: 'Lineart', softedge: 'Soft edge (HED)' }[value],
}));

/** The condition map shown for the current photo and type. */
export type ConditionPreviewState =
  | { status: 'none' }
  | { status: 'loading' }
  | { status: 'ready'; url: string; width: number; height: number; testAnnotator: boolean }
  | { status: 'error'; error: ErrorData };

export interface StructureControlsProps {
  settings: Settings;
  update: (patch: Partial<Settings>) => void;
  /** null while the list loads. */
  controlnets: ControlNetInfo[] | null;
  preview: ConditionPreviewState;
}

// Each slider's value is written beside its name, so the thumb shows no value bubble: one there
// would only cover that text while the thumb is near the right end.
function FractionSlider({ label, value, onChange, hint }: { label: string; value: number; onChange: (v: number) => void; hint: string }) {
  return (
    <div>
      <Group justify="space-between" mb={2}>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      </Group>
      <Slider min={0} max={1} step={0.05} value={value} onChange={onChange} label={null} thumbLabel={label} />
    </div>
  );
}

/**
 * Structure mode's own controls (ControlNet, PAPERS.md §1): which condition is taken from the
 * photo (with a preview of the map the ControlNet will see), which ControlNet follows it, how
 * strongly and during which part of the denoising, and how many seeds to rank by consistency.
 */
export function StructureControls({ settings: s, update, controlnets, preview }: StructureControlsProps) {
  const selected = controlnets?.find((c) => c.id === s.controlnetId);
  const mismatch = selected?.conditionType && selected.conditionType !== s.conditionType;
  return (
    <Stack gap="sm">
      <Select
        label="Condition type"
        data={TYPE_OPTIONS}
        value={s.conditionType}
        allowDeselect={false}
        onChange={(v) => v && update({ conditionType: v as ConditionType })}
      />
      <Select
        label="ControlNet"
        placeholder={controlnets === null ? 'Loading…' : 'None installed'}
        data={(controlnets ?? []).map((c) => ({ value: c.id, label: c.isTestModel ? `${c.name} (random weights)` : c.name }))}
        value={selected ? selected.id : null}
        allowDeselect={false}
        disabled={!controlnets?.length}
        onChange={(v) => {
          const c = controlnets?.find((x) => x.id === v);
          // A ControlNet named for a condition brings that condition along.
          if (c) update({ controlnetId: c.id, ...(c.conditionType ? { conditionType: c.conditionType } : {}) });
        }}
      />
      {selected?.isTestModel && (
        <Badge color="orange" variant="light" style={{ alignSelf: 'flex-start' }}>
          random-weight test ControlNet
        </Badge>
      )}
      {mismatch && (
        <Text size="xs" c="orange">
          {selected!.name} was trained on {conditionTypeName(selected!.conditionType!).toLowerCase()} maps, not {conditionTypeName(s.conditionType).toLowerCase()}.
        </Text>
      )}
      {controlnets?.length === 0 && (
        <Alert color="yellow" variant="light" p="xs">
          <Text size="xs">
            No ControlNet is installed. Put an SD1.5 ControlNet ONNX export at controlnets/&lt;name&gt;/model.onnx in the user data folder, then
            switch modes to refresh the list.
          </Text>
        </Alert>
      )}

      <div>
        <Text size="sm" fw={500} mb={4}>
          Condition
        </Text>
        <Box
          style={{ borderRadius: 6, overflow: 'hidden', background: 'var(--mantine-color-default-hover)', minHeight: 80, display: 'grid', placeItems: 'center' }}
          data-testid="condition-preview"
          data-status={preview.status}
        >
          {preview.status === 'ready' && <Image src={preview.url} alt="Condition preview" fit="contain" mah={180} />}
          {preview.status === 'loading' && (
            <Center h={120}>
              <Loader size="sm" aria-label="Extracting the condition" />
            </Center>
          )}
          {preview.status === 'none' && (
            <Text size="xs" c="gray.5" p="sm" ta="center">
              Open a photo: its {conditionTypeName(s.conditionType).toLowerCase()} map appears here.
            </Text>
          )}
          {preview.status === 'error' && (
            <Alert color="red" variant="filled" w="100%" radius={0} title={`Cannot extract (${preview.error.code})`}>
              <Text size="xs">{preview.error.message}</Text>
            </Alert>
          )}
        </Box>
        {preview.status === 'ready' && (
          <Text size="xs" c={preview.testAnnotator ? 'orange' : 'dimmed'} mt={4}>
            {preview.testAnnotator
              ? 'Made by a random-weight test annotator: the map shows nothing real.'
              : `${preview.width}×${preview.height}: what the ControlNet sees.`}
          </Text>
        )}
      </div>

      <div>
        <Group justify="space-between" mb={2}>
          <Text size="sm" fw={500}>
            Conditioning scale
          </Text>
          <Text size="xs" c="dimmed">
            {s.controlScale.toFixed(2)} · 0 = off
          </Text>
        </Group>
        <Slider min={0} max={2} step={0.05} value={s.controlScale} onChange={(v) => update({ controlScale: v })} label={null} thumbLabel="Conditioning scale" />
      </div>
      <FractionSlider
        label="Guidance start"
        value={s.controlStart}
        hint={`from ${Math.round(s.controlStart * 100)}% of the steps`}
        onChange={(v) => update({ controlStart: Math.min(v, Math.max(0, s.controlEnd - 0.05)) })}
      />
      <FractionSlider
        label="Guidance end"
        value={s.controlEnd}
        hint={`until ${Math.round(s.controlEnd * 100)}% of the steps`}
        onChange={(v) => update({ controlEnd: Math.max(v, Math.min(1, s.controlStart + 0.05)) })}
      />
      <NumberField
        label="Best of"
        description="Seeds to try; the result most consistent with the condition is kept"
        min={1}
        max={MAX_BEST_OF}
        allowDecimal={false}
        value={s.bestOf}
        onValue={(bestOf) => update({ bestOf })}
      />
    </Stack>
  );
}
