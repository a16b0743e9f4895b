#!/usr/bin/env bash
# Extract the bot's messages, merge them into the catalogs and compile them.
#   scripts/i18n.sh          extract + update + compile
#   scripts/i18n.sh compile  compile only
set -euo pipefail
cd "$(dirname "$0")/.."
BABEL=${BABEL:-.venv/bin/pybabel}
LOCALES=bot/locales
if [ "${1:-}" != "compile" ]; then
  "$BABEL" extract -F babel.cfg -k _ -k N_ -k __ --no-location --sort-output \
    --omit-header -o "$LOCALES/messages.pot" bot audit >/dev/null
  for lang in de en; do
    po="$LOCALES/$lang/LC_MESSAGES/messages.po"
    if [ -f "$po" ]; then
      "$BABEL" update -i "$LOCALES/messages.pot" -o "$po" -l "$lang" --no-fuzzy-matching \
        --omit-header >/dev/null
    else
      "$BABEL" init -i "$LOCALES/messages.pot" -o "$po" -l "$lang" >/dev/null
    fi
  done
  # pybabel update wraps at 76 columns and drops the header; keep the catalogs' own format
  .venv/bin/python - <<'PY'
from babel.messages.pofile import read_po, write_po
for lang in ("de", "en"):
    path = f"bot/locales/{lang}/LC_MESSAGES/messages.po"
    with open(path, "rb") as file:
        catalog = read_po(file)
    with open(path, "wb") as file:
        write_po(file, catalog, no_location=True, sort_output=True, width=100)
    untranslated = [m.id for m in catalog if m.id and not m.string and lang == "de"]
    if untranslated:
        print(f"{len(untranslated)} German translation(s) missing:", *untranslated, sep="\n  ")
PY
fi
"$BABEL" compile -d "$LOCALES" -D messages --use-fuzzy >/dev/null
