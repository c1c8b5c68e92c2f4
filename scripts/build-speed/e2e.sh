#!/bin/bash
# One timed `footnote index --force` of the SQuAD corpus in a worktree (docs/performance.md 9.3).
# usage: e2e.sh CORPUS OUT WORKTREE LABEL [VAR=value ...]
#   CORPUS    the SQuAD corpus: bot/evals/squad.py write_corpus of
#             ../shared/eval/squad-dev-2-articles.json into a folder
#   OUT       where the index is built, as OUT/idx-LABEL (made anew each run)
#   WORKTREE  the checkout whose .venv and code build it
#   LABEL     the run's name, printed first
#   VAR=value the build's environment, e.g. FOOTNOTE_QUANTIZE=int8
# Prints wall seconds and the manifest's build_seconds, passage count and model.
if [ $# -lt 4 ]; then
    echo "usage: e2e.sh CORPUS OUT WORKTREE LABEL [VAR=value ...]" >&2
    exit 2
fi
mkdir -p "$2"
corpus=$(realpath "$1"); outdir=$(realpath "$2"); wt=$3; label=$4; shift 4
idx=$outdir/idx-$label
rm -rf "$idx"
cd "$wt" || exit 1
start=$(date +%s.%N)
out=$(env PYTHONPATH="$wt" HF_HUB_OFFLINE=1 "$@" "$wt/.venv/bin/python" -m bot.cli index \
    --corpus "$corpus" --index "$idx" --quiet --force 2>&1)
end=$(date +%s.%N)
built=$(python3 -c "import json, sys; m = json.load(open(sys.argv[1])); print(m['build_seconds'], m['passage_count'], m['model'])" "$idx/manifest.json")
echo "$label wall=$(python3 -c "print(round($end - $start, 2))") build_seconds/passages/model=$built | $(echo "$out" | tail -1)"
