#!/usr/bin/env bash
# Installs code-server (VS Code for the web) plus Debian Chromium, used to run
# the integration and UI tests against a real VS Code on a machine without a
# desktop VS Code. Everything lands in .cache/code-server (git-ignored).
#
# Idempotent: a marker file records a complete install; a second run exits at
# once. Set CODE_SERVER_FORCE=1 to reinstall.
#
# Usage: scripts/install-code-server.sh
# Env:   CODE_SERVER_VERSION (default 4.100.3, i.e. VS Code 1.100.3)
#        CODE_SERVER_CACHE   (default <repo>/.cache/code-server)
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CODE_SERVER_CACHE:-$REPO_ROOT/.cache/code-server}"
MARKER="$CACHE/.installed-$VERSION"
VSCODE_DIR="$CACHE/node_modules/code-server/lib/vscode"
LOG_DIR="$CACHE/logs"

log() { printf '[install-code-server] %s\n' "$*"; }
step_start=0
step() { step_start=$SECONDS; log "$*"; }
done_step() { log "  ...done in $((SECONDS - step_start))s"; }

if [[ -f "$MARKER" && "${CODE_SERVER_FORCE:-0}" != "1" ]]; then
  log "code-server $VERSION already installed in $CACHE (delete $MARKER to reinstall)"
  exit 0
fi

total_start=$SECONDS

# ---------------------------------------------------------------- apt packages
APT_PACKAGES=(libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev ripgrep chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  # (dpkg -s alone also succeeds for removed packages whose config files remain)
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      log "ERROR: missing Debian packages (${missing[*]}) and not root; install them first"; exit 1
    fi
  fi
  step "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  done_step
else
  log "Debian packages already present: ${APT_PACKAGES[*]}"
fi
command -v rg >/dev/null || { log "ERROR: rg not on PATH after install"; exit 1; }
command -v chromium >/dev/null || { log "ERROR: chromium not on PATH after install"; exit 1; }

# ---------------------------------------------------------------- code-server
mkdir -p "$CACHE" "$LOG_DIR"
cd "$CACHE"
if [[ ! -f package.json ]]; then
  printf '{\n  "name": "code-server-cache",\n  "private": true\n}\n' > package.json
fi

# Keep npm quiet and offline from everything but the registry.
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export npm_config_loglevel=warn

step "npm install code-server@$VERSION (without install scripts)"
npm install --ignore-scripts "code-server@$VERSION" >"$LOG_DIR/01-code-server.log" 2>&1 \
  || { tail -n 40 "$LOG_DIR/01-code-server.log"; exit 1; }
done_step

[[ -d "$VSCODE_DIR" ]] || { log "ERROR: $VSCODE_DIR not found"; exit 1; }

step "npm install VS Code server dependencies (lib/vscode)"
(cd "$VSCODE_DIR" && npm install --omit=dev --ignore-scripts) >"$LOG_DIR/02-vscode-deps.log" 2>&1 \
  || { tail -n 40 "$LOG_DIR/02-vscode-deps.log"; exit 1; }
done_step

# Only node-pty, @parcel/watcher and kerberos matter here; npm also tries
# @vscode/spdlog and native-watchdog, whose failures are harmless, so judge the
# result by loading the three modules rather than by npm's exit code.
step "npm rebuild node-pty @parcel/watcher kerberos (native, against this node)"
(cd "$VSCODE_DIR" && npm_config_yes=true npm rebuild node-pty @parcel/watcher kerberos) >"$LOG_DIR/03-rebuild.log" 2>&1 || true
(cd "$VSCODE_DIR" && node -e '
  for (const m of ["node-pty", "@parcel/watcher", "kerberos"]) {
    try { require(m); } catch (e) { console.error("cannot load " + m + ": " + e.message); process.exitCode = 1; }
  }') || { tail -n 60 "$LOG_DIR/03-rebuild.log"; exit 1; }
done_step

# Not needed to run, but without them every extension host start logs two
# long stack traces (file logging and the parent-process watchdog).
step "npm rebuild @vscode/spdlog native-watchdog (optional)"
if (cd "$VSCODE_DIR" && npm_config_yes=true npm rebuild @vscode/spdlog native-watchdog) >"$LOG_DIR/03b-rebuild-optional.log" 2>&1; then
  done_step
else
  log "  ...failed (harmless; see $LOG_DIR/03b-rebuild-optional.log)"
fi

step "link system ripgrep and node_modules.asar"
mkdir -p "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin"
ln -sfn "$(command -v rg)" "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin/rg"
if [[ ! -e "$VSCODE_DIR/node_modules.asar" ]]; then
  ln -s node_modules "$VSCODE_DIR/node_modules.asar"
fi
done_step

step "npm install built-in extension dependencies (lib/vscode/extensions)"
(cd "$VSCODE_DIR/extensions" && npm install --omit=dev --ignore-scripts) >"$LOG_DIR/04-extensions.log" 2>&1 \
  || { tail -n 40 "$LOG_DIR/04-extensions.log"; exit 1; }
done_step

step "npm rebuild argon2"
npm rebuild argon2 >"$LOG_DIR/05-argon2.log" 2>&1 || { tail -n 40 "$LOG_DIR/05-argon2.log"; exit 1; }
done_step

step "smoke check: code-server --version"
# (own config/data dirs, so nothing is written to ~/.config or ~/.local/share)
XDG_CONFIG_HOME="$CACHE/xdg-config" XDG_DATA_HOME="$CACHE/xdg-data" \
  node "$CACHE/node_modules/code-server/out/node/entry.js" --version
done_step

rm -f "$CACHE"/.installed-*
date -u +%FT%TZ > "$MARKER"
log "code-server $VERSION installed in $CACHE in $((SECONDS - total_start))s"
