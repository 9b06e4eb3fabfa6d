# shellcheck shell=bash
# Sourced, after tap.sh, by the tests that validate partwrap's --json output
# against docs/json-schema.json (tests/offline/test-json-schema.sh,
# tests/vm/scenarios/60-json.sh): sets SCHEMA, JCHECK (tests/lib/json-check.py)
# and PY, a python3 with python3-jsonschema's draft 2020-12, or exits 77 (skip).

# shellcheck disable=SC2034  # (used by the sourcing test)
SCHEMA=$TOP/docs/json-schema.json
JCHECK=$TOP/tests/lib/json-check.py
# The system python first: a pyenv shim in PATH costs seconds per call in the VM.
PY=
for _py in /usr/bin/python3 python3; do
        if "$_py" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then PY=$_py; break; fi
done
unset _py
if [ -z "$PY" ]; then
        echo "python3-jsonschema (with draft 2020-12) is not installed (apt-get install python3-jsonschema)"
        exit 77
fi
