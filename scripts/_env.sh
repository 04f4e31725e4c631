# Shared by scripts/test and scripts/serve: find a Python >= 3.11, create .venv
# and install the project into it (again only when pyproject.toml changed).
find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "hashbank needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    return 1
}

ensure_venv() {
    local extras="$1" stamp=".venv/.installed"
    local want
    want="$extras $(cksum pyproject.toml | cut -d' ' -f1)"
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "== installing hashbank$extras into .venv (first run takes a minute)"
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -e "$extras"
        echo "$want" >"$stamp"
    fi
}
