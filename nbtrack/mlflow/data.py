"""``mlflow.data``: datasets for ``log_input``, recorded as nbtrack dataset fingerprints.

``mlflow.data.from_pandas(df, name="train", targets="y")`` and ``from_numpy`` return a small
dataset object; ``mlflow.log_input(dataset, context="training")`` fingerprints its data
(content hash, shape, columns, dtypes) under the dataset's name. Datasets made by the real
``mlflow.data`` (anything with ``.df`` / ``.features``) are taken too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Dataset:
    """Data plus MLflow's description of it (name, source, targets)."""

    data: Any
    name: str = "dataset"
    source: str | None = None
    targets: str | None = None
    predictions: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def df(self) -> Any:
        return self.data

    @property
    def digest(self) -> str:
        """The first 8 characters of the nbtrack fingerprint (MLflow shows 8 too)."""
        from ..datasets import fingerprint

        return fingerprint(self.data)["fingerprint"][:8]


def from_pandas(df: Any, source: Any = None, targets: str | None = None, name: str | None = None,
                digest: str | None = None, predictions: str | None = None) -> Dataset:
    """A dataset of a pandas DataFrame (``digest`` is computed by nbtrack, a given one is ignored)."""
    return Dataset(df, name or "dataset", None if source is None else str(source), targets, predictions)


def from_numpy(features: Any, source: Any = None, targets: Any = None, name: str | None = None,
               digest: str | None = None) -> Dataset:
    """A dataset of a numpy array (``targets`` may be an array too: both are fingerprinted)."""
    data = features if targets is None else {"features": features, "targets": targets}
    return Dataset(data, name or "dataset", None if source is None else str(source))


def dataset_data(dataset: Any) -> tuple[Any, str]:
    """The data to fingerprint and the name of anything ``log_input`` accepts."""
    if isinstance(dataset, Dataset):
        return dataset.data, dataset.name
    for attribute in ("df", "features", "data"):  # the real mlflow.data datasets
        data = getattr(dataset, attribute, None)
        if data is not None:
            return data, getattr(dataset, "name", None) or "dataset"
    if type(dataset).__module__.startswith(("pandas", "numpy")):
        return dataset, "dataset"
    raise TypeError(f"mlflow.log_input needs a dataset from mlflow.data.from_pandas / from_numpy (or a DataFrame "
                    f"or array), not {type(dataset).__name__}")


def log_input(target: Any, dataset: Any, context: str | None = None) -> dict:
    """Fingerprint ``dataset`` in ``target`` (a Run); a ``context`` is kept in the name: ``name (context)``."""
    data, name = dataset_data(dataset)
    if isinstance(data, dict):
        info = {}
        for part, value in data.items():
            info[part] = target.log_dataset(value, f"{name}.{part}" + (f" ({context})" if context else ""))
        return info
    return target.log_dataset(data, name + (f" ({context})" if context else ""))
