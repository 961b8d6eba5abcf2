#!/usr/bin/env bash
# Runs every Go fuzz target of the module (found by their `func FuzzX(f
# *testing.F)`) for FUZZTIME each (first argument: a duration such as 2m, or a
# count of new inputs such as 5000x) and prints
# the executions of each. Used by `make fuzz-short` (part of `make test`) and
# `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-3s}"
GO="${GO:-go}"
total=0
failed=0
printf '%-40s %-28s %12s\n' package target execs
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
    log=$(mktemp)
    if "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
      execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
      printf '%-40s %-28s %12s\n' "$pkg" "$target" "$execs"
      total=$((total + execs))
    else
      failed=1
      echo "FAIL $pkg $target:"; cat "$log"
    fi
    rm -f "$log"
  done
done < <(git ls-files --cached --others --exclude-standard '*_test.go' | xargs grep -l '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' | sort)
printf '%-40s %-28s %12s\n' total "(each $fuzztime)" "$total"
exit $failed
