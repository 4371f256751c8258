import { describe, expect, it } from 'vitest';
import type { ControlNetInfo } from '../../../main/contract/contract';
import { conditionSourceNote, findControlNet, recordedControlNet, recordedControlNetName } from '../../../renderer/src/editor/findControlNet';

const INSTALLED: ControlNetInfo[] = [
  { id: 'control_v11p_sd15_canny', name: 'control_v11p_sd15_canny', file: '/data/controlnets/control_v11p_sd15_canny/model.onnx', isTestModel: false, conditionType: 'canny' },
  { id: 'builtin:test-controlnet', name: 'Test ControlNet', file: '/cache/test-controlnet/model.onnx', isTestModel: true },
];

describe('findControlNet', () => {
  it('names a recorded ControlNet by its folder, from a name or an older PNG\'s path', () => {
    expect(recordedControlNetName('control_v11p_sd15_depth')).toBe('control_v11p_sd15_depth');
    expect(recordedControlNetName('/home/a/controlnets/control_v11p_sd15_depth/model.onnx')).toBe('control_v11p_sd15_depth');
    expect(recordedControlNetName('C:\\Users\\a\\cn\\depth\\controlnet\\model.onnx')).toBe('depth');
    expect(recordedControlNetName('/x/canny-fp16.onnx')).toBe('canny-fp16');
  });

  it('matches installed ControlNets by name, `test` as the embedded one, and misses others', () => {
    expect(findControlNet('control_v11p_sd15_canny', INSTALLED)?.id).toBe('control_v11p_sd15_canny');
    expect(findControlNet('/other/machine/controlnets/control_v11p_sd15_canny/model.onnx', INSTALLED)?.id).toBe('control_v11p_sd15_canny');
    expect(findControlNet('test', INSTALLED)?.id).toBe('builtin:test-controlnet');
    expect(findControlNet('/cache/test-controlnet/model.onnx', INSTALLED)?.id).toBe('builtin:test-controlnet');
    expect(findControlNet('control_v11f1p_sd15_depth', INSTALLED)).toBeUndefined();
    expect(findControlNet(undefined, INSTALLED)).toBeUndefined();
  });

  it('reads the first unit\'s ControlNet from parameters', () => {
    expect(recordedControlNet({ extra: { control: [{ controlnet: 'x', type: 'canny' }] } })).toBe('x');
    expect(recordedControlNet({ extra: { control: [] } })).toBeUndefined();
    expect(recordedControlNet({})).toBeUndefined();
  });
});

describe('conditionSourceNote', () => {
  const made = (unit: Record<string, unknown>) => ({ prompt: 'a barn', extra: { control: [{ controlnet: 'canny', type: 'canny', ...unit }] } });
  it('says an opened controlled result now gives the condition, naming the recorded source', () => {
    expect(conditionSourceNote(made({ image: 'barn.jpg', raw: false }), 'result-3.png')).toBe(
      'Structure now takes its condition from this image, not from barn.jpg, the image it was made from.',
    );
    expect(conditionSourceNote(made({}), 'result-3.png')).toBe('Structure now takes its condition from this image, not from the image it was made from.');
  });
  it('says nothing when the opened file is the recorded source, or nothing was controlled', () => {
    expect(conditionSourceNote(made({ image: 'barn.jpg' }), 'barn.jpg')).toBeUndefined();
    expect(conditionSourceNote({ prompt: 'a barn' }, 'x.png')).toBeUndefined();
    expect(conditionSourceNote({ extra: { control: 'canny' } }, 'x.png')).toBeUndefined();
  });
});
