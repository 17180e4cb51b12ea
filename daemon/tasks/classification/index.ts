// daemon/tasks/classification/: image classification as a MANTA task — the OFA-MobileNetV3-style supernet built from
// daemon/ofa's elastic layers, its data, OFA's loss (label smoothing + distillation), top-1 accuracy, and export.
export { ClassificationTask, classificationLoss, softCrossEntropy, top1Accuracy, type ClassLabels } from './task';
export { ClassificationSupernet, type ClassificationSupernetOptions, type SupernetDescription } from './supernet';
