// The JSON Schema of every request's params (plain data, draft-07), checked by the daemon before a handler runs.
// A config inside params is only required to be an object here: schemas/ validates it in full, every problem at once.
import { Methods, READ_RUN_FILE_MAX_LENGTH, type RequestMethod } from './methods';

/** What a run id may look like on the wire (ids made by daemon/pipeline's newRunId always match). */
export const RUN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

const runId = {
  type: 'string',
  pattern: RUN_ID_PATTERN,
  description: 'A run id as listRuns returns it.',
} as const;
const hostPath = { type: 'string', minLength: 1, maxLength: 4096, description: 'A path on the daemon host.' } as const;
const seq = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const empty = { type: 'object', additionalProperties: false, properties: {} } as const;
const backendName = { type: 'string', enum: ['tensorflow', 'webgpu', 'wasm', 'cpu'] } as const;
/** A job placement (values.ts JobPlacement): host labels, this host's index, the rendezvous and the job's token. */
const jobPlacement = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts', 'hostIndex', 'workersPerHost', 'coordinator', 'bindAddress', 'token'],
  properties: {
    hosts: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', minLength: 1, maxLength: 253 } },
    hostIndex: { type: 'integer', minimum: 0, maximum: 255 },
    workersPerHost: { type: 'integer', minimum: 1, maximum: 64 },
    coordinator: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: { host: { type: 'string', minLength: 1, maxLength: 253 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
    },
    bindAddress: { type: 'string', minLength: 1, maxLength: 253 },
    token: { type: 'string', pattern: '^[0-9a-fA-F]{32,128}$' },
  },
} as const;
const runRef = { type: 'object', additionalProperties: false, required: ['runId'], properties: { runId } } as const;
const numberList = (itemType: 'integer' | 'number', max: number) =>
  ({ type: 'array', minItems: 1, maxItems: 256, items: { type: itemType, minimum: 0, maximum: max } }) as const;
const arch = {
  type: 'object',
  additionalProperties: false,
  required: ['ks', 'e', 'd', 'r', 'w'],
  properties: {
    ks: numberList('integer', 15),
    e: numberList('number', 16),
    d: numberList('integer', 64),
    r: { type: 'integer', minimum: 1, maximum: 4096 },
    w: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  },
} as const;

export const paramsSchemas: Record<RequestMethod, object> = {
  [Methods.hello]: {
    type: 'object',
    additionalProperties: false,
    required: ['protocolVersion', 'client'],
    properties: {
      protocolVersion: { type: 'string', minLength: 1, maxLength: 32 },
      client: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'version'],
        properties: { name: { type: 'string', maxLength: 128 }, version: { type: 'string', maxLength: 64 } },
      },
    },
  },
  [Methods.hostInfo]: empty,
  [Methods.startRun]: {
    type: 'object',
    additionalProperties: false,
    properties: { config: { type: 'object' }, configDir: hostPath, configPath: hostPath, job: jobPlacement },
  },
  [Methods.stopRun]: runRef,
  [Methods.pauseRun]: runRef,
  [Methods.resumeRun]: { type: 'object', additionalProperties: false, required: ['runId'], properties: { runId, job: jobPlacement } },
  [Methods.listRuns]: empty,
  [Methods.attach]: {
    type: 'object',
    additionalProperties: false,
    required: ['runId', 'fromSeq'],
    properties: { runId, fromSeq: seq },
  },
  [Methods.detach]: runRef,
  [Methods.exportSubnet]: {
    type: 'object',
    additionalProperties: false,
    required: ['runId'],
    properties: { runId, arch, index: { type: 'integer', minimum: 0, maximum: 100000 }, outDir: hostPath, format: { type: 'string', enum: ['tfjs', 'onnx'] } },
  },
  [Methods.measureLatencyTable]: {
    type: 'object',
    additionalProperties: false,
    properties: { runId, configPath: hostPath, backend: backendName, refresh: { type: 'boolean' } },
  },
  [Methods.shutdown]: empty,
  [Methods.startSyntheticRun]: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'steps'],
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
      steps: { type: 'integer', minimum: 1, maximum: 100000000 },
      extraEventsPerStep: { type: 'integer', minimum: 0, maximum: 100000 },
      stepWorkMs: { type: 'number', minimum: 0, maximum: 60000 },
      checkpointEvery: { type: 'integer', minimum: 1, maximum: 100000000 },
      keepCheckpoints: { type: 'integer', minimum: 1, maximum: 1000 },
    },
  },
  [Methods.describeSpace]: {
    type: 'object',
    additionalProperties: false,
    required: ['config'],
    properties: { config: { type: 'object' }, configDir: hostPath },
  },
  [Methods.getRunResults]: runRef,
  [Methods.getRunMeasurements]: runRef,
  [Methods.getRunConfig]: runRef,
  [Methods.listRunFiles]: runRef,
  [Methods.readRunFile]: {
    type: 'object',
    additionalProperties: false,
    required: ['runId', 'file'],
    properties: {
      runId,
      // Which names are allowed is checked by the daemon, with a message that says what is: see ReadRunFileParams.
      file: { type: 'string', minLength: 1, maxLength: 512, description: "A run-file kind or 'subnets/<subnet>/<file>'." },
      offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      length: { type: 'integer', minimum: 1, maximum: READ_RUN_FILE_MAX_LENGTH },
    },
  },
  [Methods.deleteRun]: runRef,
  // Which of the two forms is given is checked by the daemon, with startRun's messages (prepare-run.ts).
  [Methods.checkConfig]: {
    type: 'object',
    additionalProperties: false,
    properties: { config: { type: 'object' }, configDir: hostPath, configPath: hostPath },
  },
  // Which subnet (index or arch) is checked by the daemon against the run's results.
  [Methods.finetune]: {
    type: 'object',
    additionalProperties: false,
    required: ['runId'],
    properties: {
      runId,
      index: { type: 'integer', minimum: 0, maximum: 100000 },
      arch,
      epochs: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
      learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
      kdRatio: { type: 'number', minimum: 0, maximum: 100 },
      batchSize: { type: 'integer', minimum: 1, maximum: 4096 },
    },
  },
  // The same bounds as the config schema's search section.
  [Methods.searchAgain]: {
    type: 'object',
    additionalProperties: false,
    required: ['runId'],
    properties: {
      runId,
      objective: { type: 'string', enum: ['macs', 'params', 'latency'] },
      constraints: {
        type: 'object',
        additionalProperties: false,
        properties: {
          maxMacs: { type: 'number', exclusiveMinimum: 0 },
          maxParams: { type: 'number', exclusiveMinimum: 0 },
          maxLatencyMs: { type: 'number', exclusiveMinimum: 0 },
        },
      },
      frontSize: { type: 'integer', minimum: 1, maximum: 100 },
    },
  },
};
