// jsonc-parser through its ES-module build: the package's default UMD build loads its parts with a dynamic require
// that a bundle cannot follow (the bundled server then fails with "Cannot find module './impl/format'").
export * from 'jsonc-parser/lib/esm/main.js';
