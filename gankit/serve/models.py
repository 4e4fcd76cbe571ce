"""The model directories a server serves: loaded once at start, described, their files hashed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit import encode
from gankit._version import __version__
from gankit.errors import GankitError
from gankit.io import CONFIG_NAME, file_sha256
from gankit.tasks import load
from gankit.tasks.base import GANTask, Translator


@dataclass(frozen=True)
class ServedModel:
    """One loaded model: its URL name, directory, task object, ``describe()`` and file hashes."""

    name: str
    path: Path
    model: GANTask
    described: dict[str, Any]
    sha256: dict[str, str]

    def listing(self) -> dict[str, Any]:
        """The entry of ``GET /v1/models``: what the model is and what its inference accepts."""
        return {
            "name": self.name,
            "task": self.described["task"],
            "preset": self.described["preset"],
            "inference": self.described["inference"],
            "accepts": {
                key: value
                for key, value in self.described.items()
                if key not in ("task", "preset", "inference", "trained")
            },
            "gankit_version": __version__,
            "sha256": self.sha256,
        }


def load_models(model_dirs: list[str | Path]) -> dict[str, ServedModel]:
    """Load every model directory once; each is served under its folder's name.

    The weights are checked as :func:`gankit.load` checks them (names, shapes, dtypes);
    ``sha256`` records each weights file and ``config.json`` as read at start.
    """
    if not model_dirs:
        raise GankitError("name at least one model directory to serve")
    served: dict[str, ServedModel] = {}
    for model_dir in model_dirs:
        path = Path(model_dir).expanduser().resolve()
        name = path.name
        if name in served:
            raise GankitError(
                f"{served[name].path} and {path} would both be served as {name!r}; rename one "
                "folder"
            )
        files = [path / CONFIG_NAME, *sorted(path.glob("*.safetensors"))]
        sha256 = {file.name: file_sha256(file) for file in files if file.is_file()}
        model = load(path)
        output = model.describe().get("output")
        if output not in encode.FORMATS:  # the API answers only in formats it can encode
            verb = "apply" if isinstance(model, Translator) else "sample"
            raise GankitError(
                f"{path} makes {output} ({type(model).__name__}), which gankit serve does not "
                f"serve yet; use `gankit {verb} {path} ...` (it serves "
                f"{', '.join(encode.FORMATS)})"
            )
        served[name] = ServedModel(name, path, model, model.describe(), sha256)
    return served
