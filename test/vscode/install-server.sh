#!/usr/bin/env bash
# Installs the VS Code server (npm package code-server 4.100.3 = VS Code 1.100.3, the last line on Node 20) offline,
# cached under .cache/vscode-server-4.100.3/, so that the extension's integration suite can run where VS Code itself
# cannot be downloaded. Idempotent: a finished install (marker file) is kept. Needs: npm registry, ripgrep
# (/usr/bin/rg), Debian's node headers (npm config nodedir=/usr) and libkrb5-dev for the native modules.
set -euo pipefail
VERSION=4.100.3
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="$ROOT/.cache/vscode-server-$VERSION"
VSCODE="$CACHE/node_modules/code-server/lib/vscode"
MARKER="$CACHE/.installed"

if [[ -f "$MARKER" && -f "$VSCODE/out/server-main.js" ]]; then
  echo "vscode server $VERSION already installed at $VSCODE"
  exit 0
fi
command -v rg >/dev/null || { echo "install-server: ripgrep is missing; run: apt-get install -y ripgrep" >&2; exit 1; }
[[ -f /usr/include/krb5.h || -f /usr/include/krb5/krb5.h ]] || {
  echo "install-server: Kerberos headers are missing; run: apt-get install -y libkrb5-dev" >&2; exit 1; }

mkdir -p "$CACHE"
cd "$CACHE"
[[ -f package.json ]] || echo '{"name":"manta-vscode-server-cache","private":true}' > package.json
# The package's own postinstall downloads ripgrep from GitHub, which is unreachable: do its steps by hand.
npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION"
cd "$VSCODE"
npm install --no-audit --no-fund --omit=dev --ignore-scripts
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
npm_config_yes=true npm rebuild kerberos node-pty @parcel/watcher @vscode/spdlog native-watchdog @vscode/deviceid
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd extensions && npm install --no-audit --no-fund --omit=dev --ignore-scripts)
touch "$MARKER"
echo "vscode server $VERSION installed at $VSCODE"
