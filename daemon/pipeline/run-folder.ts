// The files of a run directory: what the job writes and `manta export` reads. (run.json and events.jsonl are written
// by whoever runs the job: the CLI or the daemon service.)
export const CONFIG_FILE = 'config.json';
export const RUN_META_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';
export const CHECKPOINT_DIR = 'checkpoints';
export const MEASUREMENTS_FILE = 'measurements.json';
export { RESULTS_FILE, REPORT_FILE, SUBNETS_DIR } from '../search/results';
