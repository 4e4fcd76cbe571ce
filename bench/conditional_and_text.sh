#!/bin/bash
# Class-conditional and text-to-image MNIST as one job, at an equal step budget STEPS:
#   bench/conditional_and_text.sh 2000
# The text model trains beside mnist_conditional.py's three contenders (four processes, one thread
# each); mnist_text.py then scores it together with mnist_conditional.py's `default-cond` and
# AC-GAN models, which are the class-only models it would otherwise train again (same settings,
# same steps, deterministic on CPU). Both scripts append their sections to docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:?usage: bench/conditional_and_text.sh STEPS}
COND=bench/out/mnist_conditional_s$STEPS
TEXT=bench/out/mnist_text_s$STEPS
PYTHON=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$TEXT"
"$PYTHON" bench/mnist_text.py --contender text --steps "$STEPS" --model-dir "$TEXT/text" &
text_pid=$!
"$PYTHON" bench/mnist_conditional.py --steps "$STEPS" --out "$COND"
wait "$text_pid"
"$PYTHON" bench/mnist_text.py --steps "$STEPS" --out "$TEXT" \
    --contenders text "class-only (projection)" "class-only AC-GAN" \
    --reuse "text=$TEXT/text" \
    --reuse "class-only (projection)=$COND/gankit-default-cond" \
    --reuse "class-only AC-GAN=$COND/gankit-default-cond_model.projection-false_model.aux_classifier-true"
