// daemon/protocol/: every message between daemon, extension and webviews, typed once — telemetry events, requests,
// notifications and error codes — and the protocol version. It imports nothing of MANTA but plain types, and no
// node module, so the extension and the webviews can import it.
export * from './events';
export * from './errors';
export * from './methods';
export * from './params-schemas';
export * from './transport';
export * from './version';
export * from './handshake';
