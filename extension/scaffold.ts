// The example a new search config starts from: small enough to train in minutes on a laptop (synthetic data, 32×32,
// OFA's MobileNetV3 unit layout, strides 2·2·2·2·1·2 = 32), with a snippet placeholder on every value worth changing.
// JSON has no comments, so the explanation lives in the placeholders' names and in the hovers of each field.

export function newConfigSnippet(name: string): string {
  return `{
\t"name": "\${1:${name}}",
\t"task": "classification",
\t"seed": \${2:0},
\t"backend": "\${3|auto,tensorflow,webgpu,wasm,cpu|}",
\t"data": {
\t\t"kind": "\${4:synthetic}",
\t\t"classes": \${5:10},
\t\t"imageSize": 32,
\t\t"trainSize": \${6:2000},
\t\t"validationSize": 500,
\t\t"testSize": 500,
\t\t"augmentation": { "cropPadding": 2, "horizontalFlip": true }
\t},
\t"supernet": {
\t\t"units": [
\t\t\t{ "width": 24, "stride": 2, "activation": "relu" },
\t\t\t{ "width": 40, "stride": 2, "activation": "relu", "squeezeExcite": true },
\t\t\t{ "width": 80, "stride": 2, "activation": "hswish" },
\t\t\t{ "width": 112, "stride": 1, "activation": "hswish", "squeezeExcite": true },
\t\t\t{ "width": 160, "stride": 2, "activation": "hswish", "squeezeExcite": true }
\t\t],
\t\t"kernelChoices": [3, 5, 7],
\t\t"expandChoices": [3, 4, 6],
\t\t"depthChoices": [2, 3, 4],
\t\t"resolutionChoices": [32]
\t},
\t"training": {
\t\t"batchSize": \${7:32},
\t\t"subnetsPerStep": 2,
\t\t"stepsPerEpoch": \${8:50},
\t\t"phases": [
\t\t\t{ "phase": "largest", "epochs": 2, "learningRate": 0.05 },
\t\t\t{ "phase": "kernel", "epochs": 1, "learningRate": 0.02, "kernel": [3, 5, 7] },
\t\t\t{ "phase": "depth", "epochs": 1, "learningRate": 0.01, "depth": [3, 4] },
\t\t\t{ "phase": "depth", "epochs": 1, "learningRate": 0.01, "depth": [2, 3, 4] },
\t\t\t{ "phase": "expand", "epochs": 1, "learningRate": 0.01, "expand": [4, 6] },
\t\t\t{ "phase": "expand", "epochs": 1, "learningRate": 0.01, "expand": [3, 4, 6] }
\t\t]
\t},
\t"search": {
\t\t"measuredSubnets": \${9:100},
\t\t"objective": "macs",
\t\t"constraints": {},
\t\t"evolution": { "population": 100, "generations": 100 }
\t}
}
`;
}

/** The snippet with its placeholders resolved to their defaults (for writing a file without an editor). */
export function newConfigText(name: string): string {
  return newConfigSnippet(name)
    .replace(/\$\{\d+\|([^,|]+)[^}]*\}/g, '$1')
    .replace(/\$\{\d+:([^}]*)\}/g, '$1');
}
