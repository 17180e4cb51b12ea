// Convolution geometry as the native kernels take it, from tfjs's own shape helper (so padding and output sizes
// are exactly tfjs's), with the layouts the kernels do not support rejected by name.
import { backend_util } from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

/** [N, H, W, C, KH, KW, OH, OW, strideH, strideW, dilationH, dilationW, padTop, padLeft] */
export type ConvGeometry = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];

export function convInfo(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  dilations: number | [number, number] | null | undefined,
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  dataFormat: 'NHWC' | 'NCHW' | undefined,
): backend_util.Conv2DInfo {
  if (dataFormat === 'NCHW') throw new Error(`${kernel} on wasm: dataFormat NCHW is not supported, use NHWC`);
  const info = backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    strides,
    dilations ?? 1, // tfjs-layers passes null for "no dilation"; the stock kernels read that as 1 too
    pad,
    dimRoundingMode,
    depthwise,
  );
  if (depthwise && info.outChannels !== info.inChannels) {
    throw new Error(`${kernel} on wasm: channel multiplier ${info.outChannels / info.inChannels} is not supported, use 1`);
  }
  return info;
}

/** The 14 geometry arguments the native conv kernels take, input side channels as C. */
export function geometry(info: backend_util.Conv2DInfo): ConvGeometry {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.filterHeight, info.filterWidth, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ];
}

/** A 1×1, stride-1, unpadded, undilated convolution: a plain matrix multiply on the NHWC tensors. */
export function isPointwise(info: backend_util.Conv2DInfo): boolean {
  return (
    info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0 &&
    info.outHeight === info.inHeight && info.outWidth === info.inWidth
  );
}
