import { Button, Group, SegmentedControl, Slider, Text, Tooltip } from '@mantine/core';
import type { BrushMode } from '../editor/MaskRaster';

export interface CanvasToolbarProps {
  maskTools: boolean;
  tool: BrushMode;
  setTool: (t: BrushMode) => void;
  brushSize: number;
  setBrushSize: (n: number) => void;
  hardness: number;
  setHardness: (n: number) => void;
  onInvert: () => void;
  onClear: () => void;
  canUndo: boolean;
  canRedo: boolean;
  undoLabel?: string;
  redoLabel?: string;
  onUndo: () => void;
  onRedo: () => void;
  /** True while the before/after view is shown: the mask tools are then disabled. */
  comparing: boolean;
}

/** Mask tools on the left, history on the right, above the canvas. */
export function CanvasToolbar(p: CanvasToolbarProps) {
  const enabled = p.maskTools && !p.comparing;
  return (
    <Group gap="sm" wrap="nowrap" align="center" justify="space-between" mb="xs" data-testid="canvas-toolbar">
      <Group gap="sm" wrap="wrap" align="center">
        {p.maskTools && (
          <>
            <SegmentedControl
              size="xs"
              aria-label="Tool"
              value={p.tool}
              onChange={(v) => p.setTool(v as BrushMode)}
              disabled={!enabled}
              data={[
                { value: 'brush', label: 'Brush' },
                { value: 'eraser', label: 'Eraser' },
              ]}
            />
            <Group gap={6} wrap="nowrap">
              <Text size="xs" c="dimmed">
                Size
              </Text>
              <Slider w={100} size="sm" min={2} max={400} value={p.brushSize} onChange={p.setBrushSize} thumbLabel="Brush size" label={(v) => `${v}px`} disabled={!enabled} />
            </Group>
            <Group gap={6} wrap="nowrap">
              <Text size="xs" c="dimmed">
                Hardness
              </Text>
              <Slider w={80} size="sm" min={0} max={1} step={0.05} value={p.hardness} onChange={p.setHardness} thumbLabel="Hardness" label={(v) => `${Math.round(v * 100)}%`} disabled={!enabled} />
            </Group>
            <Button size="compact-sm" variant="default" onClick={p.onInvert} disabled={!enabled} aria-label="Invert mask">
              Invert
            </Button>
            <Button size="compact-sm" variant="default" onClick={p.onClear} disabled={!enabled} aria-label="Clear mask">
              Clear
            </Button>
          </>
        )}
      </Group>
      <Group gap={6} wrap="nowrap">
        <Tooltip label={p.undoLabel ? `Undo ${p.undoLabel.toLowerCase()} (Ctrl+Z)` : 'Nothing to undo'}>
          <Button size="compact-sm" variant="default" onClick={p.onUndo} disabled={!p.canUndo}>
            Undo
          </Button>
        </Tooltip>
        <Tooltip label={p.redoLabel ? `Redo ${p.redoLabel.toLowerCase()} (Ctrl+Shift+Z)` : 'Nothing to redo'}>
          <Button size="compact-sm" variant="default" onClick={p.onRedo} disabled={!p.canRedo}>
            Redo
          </Button>
        </Tooltip>
      </Group>
    </Group>
  );
}
