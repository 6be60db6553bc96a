#!/usr/bin/env bash
# The whole qdistill chain: events → teacher → soft labels → students → firmware → physics, speed.
#
#   SCALE=quick (default): a small run, 300 W+jets + 300 tt̄ training events, about 45 min from
#   scratch on 2 cores (README: step times).
#   SCALE=paper: the paper's scale (1500 W+jets events, ≈ 15 M training candidates, and 1500 tt̄
#   for the teacher; 40 student epochs).
#   OUT=DIR: where everything goes (default runs/$SCALE). WORKERS=K: generator processes.
#   THREADS=T: TensorFlow threads for training and labelling (default 2; the same T gives the
#   same weights). The teacher's metrics.json then times inference on T threads; `qdistill
#   bench` always times one thread.
#   Event files and a trained teacher already in OUT are reused (delete them to redo them).
set -euo pipefail
cd "$(dirname "$0")/.."
QD=${QD:-.venv/bin/qdistill}
SCALE=${SCALE:-quick}
OUT=${OUT:-runs/$SCALE}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-2}

case "$SCALE" in
  quick) TRAIN_EVENTS=300;  TEST_EVENTS=200; TEACHER_EPOCHS=8;  STUDENT_EPOCHS=10; BENCH=--quick ;;
  paper) TRAIN_EVENTS=1500; TEST_EVENTS=1000; TEACHER_EPOCHS=30; STUDENT_EPOCHS=40; BENCH= ;;
  *) echo "pipeline: SCALE must be quick or paper, not '$SCALE'" >&2; exit 2 ;;
esac

# The teacher's and the students' losses are the commands' defaults, the settings measured best
# for jets and missing pT (docs/teacher.md, docs/students.md).

mkdir -p "$OUT"
step() { printf '\n== %s (%dm%02ds since the start)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)) >&2; }

step "events: W+jets and ttbar ($TRAIN_EVENTS each) for training, ttbar ($TEST_EVENTS) for testing, pileup 140"
[ -f "$OUT/wjets.h5" ] || $QD data generate --process wjets --events "$TRAIN_EVENTS" --pileup 140 \
  --seed 1 --workers "$WORKERS" -o "$OUT/wjets.h5"
# the teacher also learns from tt̄ (independent of the test events: another seed); the students
# learn from its labels on W+jets alone, as in the paper (docs/teacher.md: the study)
[ -f "$OUT/ttbar_train.h5" ] || $QD data generate --process ttbar --events "$TRAIN_EVENTS" \
  --pileup 140 --seed 3 --workers "$WORKERS" -o "$OUT/ttbar_train.h5"
[ -f "$OUT/ttbar.h5" ] || $QD data generate --process ttbar --events "$TEST_EVENTS" --pileup 140 \
  --seed 2 --workers "$WORKERS" -o "$OUT/ttbar.h5"
$QD data info "$OUT/ttbar.h5"

step "teacher GNN"
[ -f "$OUT/teacher/metrics.json" ] || $QD teacher train --data "$OUT/wjets.h5" \
  --data "$OUT/ttbar_train.h5" --validation-data "$OUT/ttbar.h5" --epochs "$TEACHER_EPOCHS" \
  --threads "$THREADS" -o "$OUT/teacher"
$QD teacher label "$OUT/teacher" --data "$OUT/wjets.h5" --threads "$THREADS"
$QD teacher label "$OUT/teacher" --data "$OUT/ttbar.h5" --threads "$THREADS"

step "students"
$QD train --model distillnet --data "$OUT/wjets.h5" --validation-data "$OUT/ttbar.h5" \
  --epochs "$STUDENT_EPOCHS" --threads "$THREADS" -o "$OUT/distillnet"
$QD train --model qdistillnet --data "$OUT/wjets.h5" --validation-data "$OUT/ttbar.h5" \
  --epochs "$STUDENT_EPOCHS" --threads "$THREADS" -o "$OUT/qdistillnet"

step "firmware"
$QD convert "$OUT/qdistillnet" -o "$OUT/firmware" --golden-data "$OUT/ttbar.h5"
$QD csim "$OUT/firmware"
$QD rtl "$OUT/firmware"
$QD synth "$OUT/firmware" --flow auto
$QD report "$OUT/firmware"

step "physics and speed"
$QD evaluate --data "$OUT/ttbar.h5" --teacher "$OUT/teacher" --distillnet "$OUT/distillnet" \
  --qdistillnet "$OUT/qdistillnet" --project "$OUT/firmware" -o "$OUT/evaluation"
$QD bench -o "$OUT/bench" --teacher "$OUT/teacher" --distillnet "$OUT/distillnet" \
  --qdistillnet "$OUT/qdistillnet" --project "$OUT/firmware" --data "$OUT/ttbar.h5" $BENCH
step "done: results in $OUT"
