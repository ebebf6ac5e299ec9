"""The deployment zip `chalice package` builds with the real runtime requirements, and its size.

The project is copied into `bench/.work/` (so the stage config written for packaging never touches
the real one) with placeholder infra outputs: the zip does not depend on them. Chalice downloads
the Lambda-platform wheels of `requirements.txt` from PyPI, so this part needs the network.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work" / "package"


def build_zip(stage: str = "dev") -> Path:
    from chalicelib.local.template import load_template
    from infra import packaging
    from infra.stages import load_stage, placeholder_outputs

    if WORK.exists():
        shutil.rmtree(WORK)
    project = packaging.copy_project(ROOT, WORK / "project", with_requirements=True)
    outputs = placeholder_outputs(load_stage(stage), load_template())
    out_dir = WORK / "out"
    packaging.package(stage, outputs, out_dir=out_dir, region="us-east-1", project_dir=project)
    return out_dir / "deployment.zip"


def largest_entries(path: Path, top: int = 8) -> list[tuple[str, float]]:
    """The biggest top-level packages in the zip (compressed MB): where the size goes."""
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            head = info.filename.split("/", 1)[0]
            sizes[head] = sizes.get(head, 0) + info.compress_size
    ranked = sorted(sizes.items(), key=lambda pair: pair[1], reverse=True)[:top]
    return [(name, round(size / 1_000_000, 2)) for name, size in ranked]


def measure() -> dict:
    path = build_zip()
    return {"zip_mb": round(path.stat().st_size / 1_000_000, 2), "largest": largest_entries(path)}


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
