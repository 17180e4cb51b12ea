// daemon/protocol/: every message between daemon, extension and webviews, typed once — telemetry events, requests,
// notifications, error codes and the value types they carry (values.ts) — and the protocol version. It imports
// nothing of MANTA but schemas/'s generated types, and no node module, so the extension and the webviews can import
// it (test/unit/architecture-imports.test.ts checks this).
export * from './values';
export * from './events';
export * from './results';
export * from './errors';
export * from './methods';
export * from './params-schemas';
export * from './transport';
export * from './version';
export * from './handshake';
