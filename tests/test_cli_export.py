from pathlib import Path

import numpy as np
from bvh import Bvh

from signeditor.cli import main
from signeditor.io.smplx_params import read_smplx_npz

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"


def test_export_batch_writes_each_input_and_skips_bad_ones(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.signproj"
    broken.write_bytes(b"PK\x03\x04 not really")
    code = main(["export", str(SAMPLE), str(broken), "-f", "bvh", "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.signproj" in captured.err
    mocap = Bvh((tmp_path / "out" / "sample.bvh").read_text())
    assert mocap.nframes == 100


def test_export_npz_then_reopen(tmp_path: Path) -> None:
    assert main(["export", str(SAMPLE), "-f", "npz", "-o", str(tmp_path)]) == 0
    motion = read_smplx_npz(tmp_path / "sample.npz")
    assert motion.n_frames == 100 and np.isfinite(motion.features).all()
