import { NumberField } from './NumberField';
import { ActionIcon, Alert, Button, Group, SegmentedControl, Select, Slider, Stack, Text, Textarea, Tooltip } from '@mantine/core';
import type { ReactNode } from 'react';
import type { TokenCount } from '../../../main/contract/contract';
import { strengthHint } from '../editor/strengthHint';
import { MAX_GUIDANCE } from '../../../main/contract/limits';
import { isInversionMethod, MAX_SEED, MAX_STEPS, randomSeed, strengthKey, type EditMethod, type SchedulerChoice, type Settings } from '../editor/settings';

const METHOD_OPTIONS: { value: EditMethod; label: string }[] = [
  { value: 'img2img', label: 'img2img / inpaint' },
  { value: 'pti', label: 'Prompt Tuning Inversion' },
  { value: 'nti', label: 'Null-text inversion' },
  { value: 'ddim', label: 'DDIM inversion' },
];

const SCHEDULER_OPTIONS: { value: SchedulerChoice; label: string }[] = [
  { value: 'model', label: 'Model default' },
  { value: 'ddim', label: 'DDIM' },
  { value: 'euler', label: 'Euler' },
  { value: 'euler-a', label: 'Euler ancestral' },
  { value: 'dpmpp-2m', label: 'DPM++ 2M' },
];

const SIZES = ['512×512', '512×768', '768×512', '640×448', '448×640', '768×768'];

export interface ControlsPanelProps {
  settings: Settings;
  update: (patch: Partial<Settings>) => void;
  /** Token count of the prompt; 'unavailable' when the engine cannot count (no model). */
  tokens: TokenCount | 'unavailable' | null;
  /** Edit photo without inversion: the kind Generate runs (a painted mask makes it inpaint). */
  editKind?: 'img2img' | 'inpaint';
  /** Why Generate cannot run now, if it cannot. */
  blocked?: string;
  /** What Generate will do, e.g. "Inpaint the masked area". */
  action: string;
  canCancel: boolean;
  onGenerate: () => void;
  onCancel: () => void;
  /** Controls of the mode itself (Structure's ControlNet settings), shown below the prompts. */
  modeControls?: ReactNode;
  /** Inversion editing: what moving η does now (e.g. re-edits the cached inversion). */
  etaHint?: string;
}

/** Prompt and generation settings for Edit photo and Generate; every control has an accessible name. */
export function ControlsPanel({ settings: s, update, tokens, editKind = 'img2img', blocked, action, canCancel, onGenerate, onCancel, modeControls, etaHint }: ControlsPanelProps) {
  const isEdit = s.mode === 'edit';
  // Edits by inversion are deterministic DDIM: no negative prompt, scheduler, seed or strength.
  const inversion = isEdit && isInversionMethod(s.editMethod);
  const strengthSetting = strengthKey(editKind);
  const strength = s[strengthSetting];
  const stepsHint = strengthHint(s.steps, strength);
  const tokenText =
    tokens === 'unavailable' ? '— tokens' : tokens ? `${tokens.count}/${tokens.max} tokens${tokens.truncated ? ' (truncated)' : ''}` : '…';
  return (
    <Stack gap="sm">
      {isEdit && (
        <Select
          label="Method"
          data={METHOD_OPTIONS}
          value={s.editMethod}
          allowDeselect={false}
          onChange={(v) => v && update({ editMethod: v as EditMethod })}
          description={
            inversion
              ? 'Inverts the photo, then re-generates it towards the target prompt. With a mask only the masked area changes (the photo\'s own pixels stay outside it); without one the whole picture is re-generated from the inversion.'
              : 'Re-imagines the photo, or repaints the masked area.'
          }
        />
      )}
      <Textarea
        label={inversion ? 'Target prompt' : 'Prompt'}
        placeholder={inversion ? 'What the photo should show, e.g. a cat wearing a red hat' : isEdit ? 'What the masked area (or the photo) should become' : 'Describe the picture'}
        autosize
        minRows={3}
        maxRows={8}
        value={s.prompt}
        onChange={(e) => update({ prompt: e.currentTarget.value })}
        description={
          <Group justify="space-between" gap={4} component="span">
            <span
              data-testid="token-count"
              title={tokens === 'unavailable' ? 'The token count needs the model, which is not loaded.' : undefined}
              style={{ color: tokens && tokens !== 'unavailable' && tokens.truncated ? 'var(--mantine-color-error)' : undefined }}
            >
              {tokenText}
            </span>
            <span>Ctrl+Enter generates</span>
          </Group>
        }
        inputWrapperOrder={['label', 'input', 'description']}
      />
      {inversion ? (
        <Textarea
          label="Source prompt"
          description="Optional: describes the photo as it is"
          placeholder="e.g. a cat"
          autosize
          minRows={1}
          maxRows={3}
          value={s.sourcePrompt}
          onChange={(e) => update({ sourcePrompt: e.currentTarget.value })}
        />
      ) : (
        <Textarea
          label="Negative prompt"
          placeholder="What to avoid"
          autosize
          minRows={1}
          maxRows={4}
          value={s.negativePrompt}
          onChange={(e) => update({ negativePrompt: e.currentTarget.value })}
        />
      )}
      {inversion && (
        <div>
          <Group justify="space-between" mb={2}>
            <Text size="sm" fw={500}>
              Edit strength (η)
            </Text>
            <Text size="xs" c="dimmed">
              {s.eta.toFixed(2)} · 0 = the photo
            </Text>
          </Group>
          <Slider min={0} max={1} step={0.05} value={s.eta} onChange={(v) => update({ eta: v })} label={null} thumbLabel="Edit strength (η)" />
          {etaHint && (
            <Text size="xs" c="dimmed" mt={4} data-testid="eta-hint">
              {etaHint}
            </Text>
          )}
        </div>
      )}
      {modeControls}
      <Group grow gap="sm">
        <NumberField label="Steps" min={1} max={MAX_STEPS} allowDecimal={false} value={s.steps} onValue={(steps) => update({ steps })} />
        <NumberField label="Guidance" min={0} max={MAX_GUIDANCE} step={0.5} decimalScale={2} value={s.guidance} onValue={(guidance) => update({ guidance })} />
      </Group>
      {isEdit && !inversion && (
        <div>
          <Group justify="space-between" mb={2}>
            <Text size="sm" fw={500} id="strength-label">
              Strength{editKind === 'inpaint' ? ' (masked area)' : ''}
            </Text>
            <Text size="xs" c="dimmed" data-testid="strength-value">
              {strength.toFixed(2)} · {editKind === 'inpaint' ? '1 = repaint fully' : 'how far from the photo'}
            </Text>
          </Group>
          <Slider
            min={0.05}
            max={1}
            step={0.05}
            value={strength}
            onChange={(v) => update({ [strengthSetting]: v })}
            label={null}
            thumbLabel="Strength"
          />
          <Text size="xs" c={stepsHint.problem ? 'var(--mantine-color-error)' : 'dimmed'} mt={4} data-testid="steps-run-hint">
            {stepsHint.text}
          </Text>
        </div>
      )}
      {s.mode === 'generate' && (
        <Select
          label="Size"
          data={SIZES.includes(`${s.width}×${s.height}`) ? SIZES : [...SIZES, `${s.width}×${s.height}`]}
          value={`${s.width}×${s.height}`}
          allowDeselect={false}
          onChange={(v) => {
            if (!v) return;
            const [w, h] = v.split('×').map(Number);
            update({ width: w, height: h });
          }}
        />
      )}
      {!inversion && (
        <Select
          label="Scheduler"
          data={SCHEDULER_OPTIONS}
          value={s.scheduler}
          allowDeselect={false}
          onChange={(v) => v && update({ scheduler: v as SchedulerChoice })}
          description={s.scheduler === 'model' ? "The model folder's scheduler_config.json, as the CLI uses" : undefined}
        />
      )}
      {!inversion && (
        <div>
          <Text size="sm" fw={500} mb={4}>
            Seed
          </Text>
          <Group gap="xs" wrap="nowrap" align="flex-start">
            <SegmentedControl
              size="xs"
              aria-label="Seed mode"
              value={s.seedMode}
              onChange={(v) => update({ seedMode: v as Settings['seedMode'] })}
              data={[
                { value: 'random', label: 'Random' },
                { value: 'locked', label: 'Locked' },
              ]}
            />
            <NumberField
              aria-label="Seed"
              size="xs"
              style={{ flex: 1 }}
              min={0}
              max={MAX_SEED}
              allowDecimal={false}
              value={s.seed}
              onValue={(seed) => update({ seed, seedMode: 'locked' })}
            />
            <Tooltip label="New random seed">
              <ActionIcon variant="default" size="md" aria-label="New seed" onClick={() => update({ seed: randomSeed(), seedMode: 'locked' })}>
                <span aria-hidden>⚄</span>
              </ActionIcon>
            </Tooltip>
          </Group>
          <Text size="xs" c="dimmed" mt={4}>
            {s.seedMode === 'random' ? 'A new seed for every job (shown here after Generate).' : 'Every job uses this seed.'}
          </Text>
        </div>
      )}
      {blocked && (
        <Alert variant="light" color="gray" py={6}>
          <Text size="sm">{blocked}</Text>
        </Alert>
      )}
      {/* Kept in view at the panel's foot however long the mode's controls are (Structure scrolled it away). */}
      <Stack
        gap={4}
        data-testid="generate-bar"
        style={{ position: 'sticky', bottom: 0, zIndex: 2, background: 'var(--mantine-color-body)', paddingTop: 6, paddingBottom: 4 }}
      >
        <Group grow gap="sm">
          <Button onClick={onGenerate} disabled={Boolean(blocked)} title={action}>
            Generate
          </Button>
          <Button variant="default" onClick={onCancel} disabled={!canCancel}>
            Cancel
          </Button>
        </Group>
        {!blocked && (
          <Text size="xs" c="dimmed" ta="center" data-testid="generate-action">
            {action}
          </Text>
        )}
      </Stack>
    </Stack>
  );
}
