#!/bin/sh
# Create (or refresh) the project's virtualenv with the pinned dependencies.
set -eu
venv=${1:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -e '.[test,vm,bench]'
