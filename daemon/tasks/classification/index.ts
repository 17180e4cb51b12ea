// daemon/tasks/classification/: image classification as a MANTA task — the OFA-MobileNetV3-style supernet built from
// daemon/ofa's elastic layers, its data (daemon/data), OFA's loss (label smoothing + distillation), top-1 accuracy,
// and what an exported subnet carries.
export { ClassificationTask, batchTensors, classificationData, classificationLoss, resizeTo, softCrossEntropy, top1Accuracy, type ClassLabels } from './task';
export { ClassificationSupernet, type ClassificationSupernetOptions, type SupernetDescription } from './supernet';
