// vscode-jsonrpc 10 publishes its entry points only through package.json "exports", which the root tsconfig's
// `moduleResolution: node` does not read. These ambient modules point the two entry points at their declaration
// files; they are used only when normal resolution fails (a newer moduleResolution makes them inert).
declare module 'vscode-jsonrpc' {
  export * from 'vscode-jsonrpc/lib/common/api';
}
declare module 'vscode-jsonrpc/node' {
  export * from 'vscode-jsonrpc/lib/node/main';
}
