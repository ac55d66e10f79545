/** PNG files of pictures drawn in memory (the page-frame map): the one place that encodes them. */
import { PNG } from 'pngjs';

/** An RGB PNG of `width` × `height` RGBA pixels, row by row (every pixel is opaque, so no alpha channel). */
export function encodePng(picture: { width: number; height: number; rgba: Uint8Array }): Buffer {
  const png = new PNG();
  png.width = picture.width;
  png.height = picture.height;
  png.data = Buffer.from(picture.rgba.buffer, picture.rgba.byteOffset, picture.rgba.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}
