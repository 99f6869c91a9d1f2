#!/usr/bin/env bash
# Print the first Python 3.12+ on this machine (Django 6.1 needs 3.12): on PATH, then pyenv's versions.
set -u
candidates=(python3.14 python3.13 python3.12 python3)
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*; do
  [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
done
for python in "${candidates[@]}"; do
  if "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
    command -v "$python"
    exit 0
  fi
done
echo "Challenge Cards needs Python 3.12 or newer (Django 6.1); none was found on PATH or under pyenv." >&2
exit 1
