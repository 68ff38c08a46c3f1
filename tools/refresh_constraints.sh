#!/usr/bin/env bash
# Refresh requirements/constraints.txt: install pmq[test,docs] UNPINNED in a fresh virtual environment
# (what a newcomer gets from the package index today), run the whole suite and build the documentation
# site (-W), and only if both are green
# write the exact versions to requirements/constraints.txt.  Review the diff, then commit it.
#
#     tools/refresh_constraints.sh            # uses python3 on PATH (3.11 is the reference)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
env -u PIP_CONSTRAINT python -m pip install --quiet ".[test,docs]"    # docs: .ci/run builds the site with these pins too
python -m pytest -q
python -m sphinx -W --keep-going -q -b html docs "$(dirname "$venv")/html"
{
    echo "# Exact versions the test suite passes with (Python $(python -c 'import sys; print(".".join(map(str, sys.version_info[:2])))'), $(uname -s) $(uname -m)), used by .ci/run."
    echo "# Refresh: tools/refresh_constraints.sh (fresh venv, unpinned install, full suite, then pip freeze)."
    echo "# Generated $(date -u +%Y-%m-%d) from what the package index served that day."
    python -m pip freeze --exclude-editable | grep -v -i '^pmq[ =@]'
} > requirements/constraints.txt
echo "requirements/constraints.txt refreshed; review with: git diff requirements/constraints.txt"
