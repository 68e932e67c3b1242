#!/bin/sh
# Smoke test of the built one-folder app (`make package` runs it): start the editor headless, open the sample and
# regenerate it (KF2P through ONNX Runtime), export a GLB, import a short real video (MediaPipe inside the bundle),
# and check that the bundle holds no torch, jax or Ray and stays within its size budget.
set -eu
APP=${1:-dist/SignEditor}
SAMPLE=${2:-resources/samples/sample.signproj}
VIDEO=${3:-../shared/signdata/how2sign_videos/_4PBd_wiX_A_3-5-rgb_front.mp4}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for heavy in torch jax jaxlib ray; do
    if [ -e "$APP/_internal/$heavy" ]; then echo "smoke: $heavy is in the bundle" >&2; exit 1; fi
done
size_mb=$(du -sm "$APP" | cut -f1)
echo "smoke: bundle $size_mb MB"
MAX_MB=${MAX_MB:-500}
[ "$size_mb" -le "$MAX_MB" ] || { echo "smoke: bundle over $MAX_MB MB" >&2; exit 1; }

start=$(date +%s.%N)
"$APP/SignEditor" --help > /dev/null
echo "smoke: --help $(echo "$(date +%s.%N) - $start" | bc) s"
env -u QT_QPA_PLATFORM xvfb-run -a "$APP/SignEditor" gui --no-recovery --exit-when-ready "$SAMPLE"
"$APP/SignEditor" generate "$SAMPLE" -o "$OUT/regenerated.signproj"
"$APP/SignEditor" export "$OUT/regenerated.signproj" -f glb -o "$OUT"
test -s "$OUT/regenerated.glb"
if [ -f "$VIDEO" ]; then
    "$APP/SignEditor" import-video "$VIDEO" -o "$OUT/video.signproj" --quiet
    test -s "$OUT/video.signproj"
else
    echo "smoke: $VIDEO not found, video import not checked" >&2
fi
echo "smoke: ok"
