// daemon/search/onnx/: ONNX export of an extracted subnet (any task's stock tfjs LayersModel → a ModelProto, BN folded, NCHW, opset 17 by default), the exported folder (model.onnx + README.md), and the lazy loader of onnxruntime-node that times and runs such models.
export { exportOnnx, buildOnnx, DEFAULT_OPSET, SUPPORTED_OPSETS, INPUT_LAYOUT, type OnnxExport, type OnnxExportOptions } from './export';
export { OnnxExportError, onnxDims } from './convert';
export { saveOnnxModel, ONNX_MODEL_FILE, ONNX_README_FILE } from './files';
export { loadOnnxRuntime, OnnxRuntimeMissingError, ONNX_RUNTIME_PACKAGE, type OnnxRuntime } from './runtime';
export type { OnnxValueInfo } from './model-proto';
