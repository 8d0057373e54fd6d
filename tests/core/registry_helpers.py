"""Real scikit-learn models and pickles for the registry tests."""

from __future__ import annotations

import numpy as np


def training_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(120, 4))
    return features, (features[:, 0] + features[:, 1] > 0).astype(int)


def logistic(seed: int = 0):
    from sklearn.linear_model import LogisticRegression

    features, labels = training_data(seed)
    return LogisticRegression(C=0.5 + seed).fit(features, labels)


def forest(seed: int = 0):
    from sklearn.ensemble import RandomForestClassifier

    features, labels = training_data(seed)
    return RandomForestClassifier(n_estimators=4, max_depth=3, random_state=seed).fit(features, labels)


class Exploit:
    """A pickle that would run a shell command when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)
