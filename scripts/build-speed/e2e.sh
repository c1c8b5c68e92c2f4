#!/bin/bash
# One timed `footnote index --force` of the SQuAD corpus in a worktree (docs/performance.md 9.3).
# usage: e2e.sh WORKTREE LABEL [VAR=value ...]   prints wall seconds and the manifest's
# build_seconds, passage count and model.  The corpus: bot/evals/squad.py write_corpus of
# ../shared/eval/squad-dev-2-articles.json into /tmp/speed/squad-corpus.
wt=$1; label=$2; shift 2
idx=/tmp/speed/idx-$label
rm -rf "$idx"
cd "$wt" || exit 1
start=$(date +%s.%N)
out=$(env PYTHONPATH="$wt" HF_HUB_OFFLINE=1 "$@" "$wt/.venv/bin/python" -m bot.cli index \
    --corpus /tmp/speed/squad-corpus --index "$idx" --quiet --force 2>&1)
end=$(date +%s.%N)
built=$(python3 -c "import json; m = json.load(open('$idx/manifest.json')); print(m['build_seconds'], m['passage_count'], m['model'])")
echo "$label wall=$(python3 -c "print(round($end - $start, 2))") build_seconds/passages/model=$built | $(echo "$out" | tail -1)"
