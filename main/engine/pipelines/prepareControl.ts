import { createHash } from 'node:crypto';
import { badArgument } from '../errors';
import type { ControlNet, ControlResiduals } from '../control/ControlNet';
import type { ConditionImage } from '../control/ConditionImage';
import type { ConditionType } from '../control/ConditionType';
import { consistencyScore, hasEdgePixels } from '../control/consistencyScore';
import { conditionTensor } from '../control/controlnet/conditionTensor';
import { sumResiduals } from '../control/controlnet/sumResiduals';
import type { ExtractOptions } from '../control/extractCondition';
import { resizeCondition } from '../control/resizeCondition';
import { resizeRgb } from '../image/resizeRgb';
import type { RgbImage } from '../image/RgbImage';
import type { UNet } from '../model/UNet';

/** One ControlNet guiding a generation. */
export interface ControlUnit {
  controlnet: ControlNet;
  type: ConditionType;
  /** The condition map (see extractCondition); resized to the generation size. */
  condition: ConditionImage;
  /** conditioning_scale (default 1; 0 turns it off). */
  scale?: number;
  /** Fractions of the denoising steps run between which it acts (default 0 and 1). */
  start?: number;
  end?: number;
  /** The name its parameters record (default: ControlNet.name, its folder's name), never a path. */
  name?: string;
  /** Where the condition came from, recorded in the result's parameters (the CLI: the image path and `raw`). */
  source?: { image: string; raw: boolean };
}

export interface ControlRequest {
  /** The model's UNet in its ControlNet-ready form (see controlledUnet). */
  unet: UNet;
  units: ControlUnit[];
  /** How the consistency score re-extracts the condition (annotator folder, canny thresholds). */
  extract?: Omit<ExtractOptions, 'raw' | 'width' | 'height'>;
}

/** ControlNet++'s consistency of a result with the first ControlNet's condition (see consistencyScore). */
export interface ConsistencyReport {
  type: ConditionType;
  metric: string;
  value: number;
  higherIsBetter: boolean;
}

export interface GenerationMetrics {
  consistency?: ConsistencyReport;
}

/** One UNet call's inputs, as the ControlNets see them. */
export interface ControlStepInput {
  /** The 4-channel latent x_t as fed to the UNet (scaled), repeated to `batch`. */
  sample: Float32Array;
  batch: number;
  latentHeight: number;
  latentWidth: number;
  t: number;
  context: Float32Array;
  contextDims: readonly number[];
  /** Index among the steps run (0-based) and their count. */
  step: number;
  totalSteps: number;
}

export interface PreparedControl {
  unet: UNet;
  /** The summed residuals of the ControlNets active at this step, or undefined when none is. */
  residuals(input: ControlStepInput): Promise<ControlResiduals | undefined>;
  score(result: RgbImage): Promise<ConsistencyReport>;
  /** What goes into the PNG's parameters. */
  describe(): Record<string, unknown>[];
}

/** sha256 (first 16 hex digits) of a condition map's size and pixels. */
export function conditionHash(c: ConditionImage): string {
  return createHash('sha256').update(`${c.width}x${c.height}\0`).update(c.rgb).digest('hex').slice(0, 16);
}

/**
 * diffusers' controlnet_keep: ControlNet k acts at step i of n when i/n ≥ start and
 * (i+1)/n ≤ end; otherwise its residuals are zero (it is not run).
 */
export function controlActive(step: number, totalSteps: number, start: number, end: number): boolean {
  return step / totalSteps >= start && (step + 1) / totalSteps <= end;
}

function checkFraction(name: string, v: number, i: number): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw badArgument(`ControlNet ${i + 1}: ${name} is ${v}; use a fraction of the steps from 0 to 1.`);
  return v;
}

/**
 * Step 1 and 4 for a controlled generation: checks each unit (scale, start ≤ end, the ControlNet
 * fits the UNet), resizes the conditions to the generation size once, and returns what the
 * denoising loop and the scoring need.
 */
export async function prepareControl(control: ControlRequest, width: number, height: number): Promise<PreparedControl> {
  if (!control || !Array.isArray(control.units) || control.units.length === 0) throw badArgument('A controlled generation needs at least one ControlNet.');
  const target = control.unet.control;
  if (!target) throw badArgument(`The UNet ${control.unet.session.file} takes no ControlNet residuals; pass the model's controlledUnet.`);
  const units = await Promise.all(
    control.units.map(async (u, i) => {
      const scale = u.scale ?? 1;
      if (typeof scale !== 'number' || !Number.isFinite(scale)) throw badArgument(`ControlNet ${i + 1}: scale is ${scale}; use a number (1 = full strength, 0 = off).`);
      const start = checkFraction('start', u.start ?? 0, i);
      const end = checkFraction('end', u.end ?? 1, i);
      if (start >= end) throw badArgument(`ControlNet ${i + 1}: start ${start} is not before end ${end}.`);
      u.controlnet.checkFits(target);
      const condition = await resizeCondition(u.type, u.condition, width, height);
      return { unit: u, scale, start, end, condition, tensor: conditionTensor(condition) };
    }),
  );
  // The first ControlNet's condition is the one scored: an edge-free canny map has no F1 (and gives
  // the ControlNet no structure to follow), so it is refused before any step, as `control score` does.
  if (units[0].unit.type === 'canny' && !hasEdgePixels(units[0].condition)) {
    const from = units[0].unit.source ? ` (from ${units[0].unit.source.image})` : '';
    throw badArgument(
      `ControlNet 1's canny condition${from} has no edge pixels: it gives the ControlNet no structure to follow and its consistency (F1 over edge pixels) is undefined; use an image with visible edges.`,
    );
  }

  return {
    unet: control.unet,
    async residuals(s) {
      const active = units.filter((u) => controlActive(s.step, s.totalSteps, u.start, u.end));
      if (active.length === 0) return undefined;
      const each: ControlResiduals[] = [];
      for (const u of active) {
        each.push(
          await u.unit.controlnet.residuals(
            {
              sample: s.sample,
              sampleDims: [s.batch, 4, s.latentHeight, s.latentWidth],
              timestep: s.t,
              context: s.context,
              contextDims: s.contextDims,
              condition: u.tensor.data,
              conditionDims: u.tensor.dims,
              scale: u.scale,
            },
            target,
          ),
        );
      }
      return sumResiduals(each);
    },
    async score(result) {
      const first = units[0];
      // The condition is at the generation size; a result restored to a photo's size (whose aspect
      // ratio the multiples of 8 may have changed by a few %) is compared at that size too.
      const atSize =
        result.width === first.condition.width && result.height === first.condition.height ? result : await resizeRgb(result, first.condition.width, first.condition.height);
      const s = await consistencyScore(first.unit.type, first.condition, atSize, control.extract);
      return { type: first.unit.type, metric: s.metric, value: s.value, higherIsBetter: s.higherIsBetter };
    },
    describe() {
      // conditionHash identifies the condition map the ControlNet saw (at the generation size),
      // so a result can be checked against a condition re-made from its recorded source.
      return units.map((u) => ({
        type: u.unit.type,
        scale: u.scale,
        start: u.start,
        end: u.end,
        // A name and a content hash, not the file's path: the same ControlNet installed elsewhere
        // (another cache dir, another user's home) gives the same PNG bytes and leaks no path.
        controlnet: u.unit.name ?? u.unit.controlnet.name,
        controlnetHash: u.unit.controlnet.contentHash,
        conditionHash: conditionHash(u.condition),
        ...(u.unit.source ? { image: u.unit.source.image, raw: u.unit.source.raw } : {}),
      }));
    },
  };
}
