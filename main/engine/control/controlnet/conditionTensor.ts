import { checkRgbImage, type RgbImage } from '../../image/RgbImage';

/** A condition image as a ControlNet takes it: [1, 3, H, W] float32 in 0…1 (diffusers' ToTensor, no normalisation). */
export function conditionTensor(image: RgbImage): { data: Float32Array; dims: [number, number, number, number] } {
  const { rgb, width, height } = image;
  checkRgbImage(rgb, width, height, 'Condition image');
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    data[i] = rgb[i * 3] / 255;
    data[plane + i] = rgb[i * 3 + 1] / 255;
    data[2 * plane + i] = rgb[i * 3 + 2] / 255;
  }
  return { data, dims: [1, 3, height, width] };
}
