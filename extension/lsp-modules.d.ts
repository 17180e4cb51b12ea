// vscode-languageserver/-client/-protocol 11 publish their entry points only through package.json "exports", which
// the root tsconfig's node10 module resolution does not read; these map them to their typings (esbuild and Node
// resolve the real "exports" at build and run time).
declare module 'vscode-languageserver/node' {
  export * from 'vscode-languageserver/lib/node/main';
}
declare module 'vscode-languageserver-protocol' {
  export * from 'vscode-languageserver-protocol/lib/common/api';
}
declare module 'vscode-languageclient/node' {
  export * from 'vscode-languageclient/lib/node/main';
}
