"""Reliability: importer fuzzing (cases run, failures) and live regeneration under 1,000 random edits.

``fuzz_failures`` and ``stale_applied`` must be 0. The stress runs twice:
with a deterministic hold-pose model slower than the edits, so the final
motion can be compared exactly with a fresh regeneration
(``stress_hold.max_abs_error_vs_fresh``), and with the learned KF2P model
(no exact comparison: KF2P blends window edges, so a windowed result is not a
whole-clip one; ``anchor_error`` checks every anchor pose is on its frame).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=300, help="fuzz cases per importer")
    parser.add_argument("--heavy", action=argparse.BooleanOptionalAction, default=True,
                        help="include the 100,000-frame/row cases (slow: about two minutes)")
    parser.add_argument("--edits", type=int, default=1000, help="random edits in the stress run")
    parser.add_argument("--model", choices=("hold", "kf2p", "both"), default="both",
                        help="regenerator for the stress run (hold: exact freshness check; kf2p: the learned model)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(1)
    fuzz = _fuzz(args)
    stress = _stress(args)
    return {**fuzz, **stress}


def _fuzz(args: argparse.Namespace) -> dict:
    from signeditor.reliability.fuzz import run_fuzz
    from signeditor.reliability.fuzz_targets import all_targets

    report = run_fuzz(all_targets(heavy=args.heavy), args.cases, seed=args.seed, timeout_s=120)
    return {
        "fuzz_cases": report.cases,
        "fuzz_failures": len(report.failures),
        "fuzz_loaded": report.loaded,
        "fuzz_rejected": report.rejected,
        "fuzz_cases_per_importer": report.per_target,
        "fuzz_seconds": round(report.seconds, 1),
        "fuzz_failure_examples": [f"[{f.target}] {f.description}: {f.problem}" for f in report.failures[:10]],
    }


def _stress(args: argparse.Namespace) -> dict:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the stress run needs no viewport
    from PySide6 import QtCore

    from signeditor.gui.app import application

    # Closing the window deletes the recovery file: keep this run's away from the user's real one.
    QtCore.QStandardPaths.setTestModeEnabled(True)
    application()
    models = ("hold", "kf2p") if args.model == "both" else (args.model,)
    runs = {model: _stress_run(args, model) for model in models}
    first = runs[models[0]]
    result = {
        "stress_edits": first["edits"],
        "stale_applied": sum(r["stale_applied"] for r in runs.values()),
        "rss_growth_mb": max(r["rss_growth_mb"] for r in runs.values()),
    }
    for model, run_result in runs.items():
        result[f"stress_{model}"] = run_result
    return result


def _stress_run(args: argparse.Namespace, model: str) -> dict:
    from PySide6 import QtCore

    from signeditor.gui.edit_stress import HoldPoses, run_edit_stress, stress_project
    from signeditor.gui.main_window import MainWindow
    from signeditor.gui.regeneration import ModelRegenerate

    regenerate = HoldPoses(delay_s=0.004) if model == "hold" else ModelRegenerate(device="cpu")
    if model == "kf2p":
        regenerate.warm_up()  # load the weights before memory is measured: growth is the edits' alone
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(str(Path(tmp) / "bench.ini"), QtCore.QSettings.Format.IniFormat)
        window = MainWindow(stress_project(), regenerate=regenerate, settings=settings, with_viewport=False,
                            confirm_close=False)
        try:
            report = run_edit_stress(window, args.edits, seed=args.seed, settle_timeout_s=300)
        finally:
            window.close()
    return {
        "model": window.regenerator.backend,
        "edits": report.edits,
        "stale_applied": report.stale_applied,
        "rss_growth_mb": round(report.rss_growth_mb, 1),
        "max_abs_error_vs_fresh": report.max_abs_error,
        "anchor_error": report.anchor_error,
        "dropped_results": report.dropped_results,
        "stopped_jobs": report.stopped_jobs,
        "regenerations": report.regenerations,
        "exceptions": len(report.exceptions),
        "seconds": round(report.seconds, 1),
        "edit_kinds": report.kinds,
    }
