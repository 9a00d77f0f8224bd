#!/usr/bin/env bash
# Creates the Python virtualenv the HTTP API tests and the serve benchmark run in (.venv/, git-ignored) and prints
# its interpreter path on the last line. Idempotent: an environment that already has every package is left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
packages=(openai pytest requests)

# Debian's interpreter, so the venv does not depend on whatever python3 a shell's PATH finds first.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import openai, pytest, requests' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
fi
echo "$venv/bin/python"
