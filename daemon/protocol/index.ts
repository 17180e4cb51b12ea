// daemon/protocol/: every message between daemon, extension and webviews, typed once — telemetry events, requests,
// notifications and error codes — and the protocol version. It imports nothing of MANTA but plain types.
export * from './events';
