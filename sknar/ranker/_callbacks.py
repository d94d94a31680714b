"""skorch callbacks NARRanker trains with: a guard against divergence, and a progress bar."""

import math

import numpy as np
from skorch.callbacks import Callback
from tqdm.auto import tqdm


class TrainingGuard(Callback):
    """Stop at the first non-finite training loss, and count the epochs that finished.

    skorch swallows a ``KeyboardInterrupt`` and returns as if training had ended; the count
    of finished epochs tells the ranker that it did not.
    """

    def __init__(self, *, max_epochs):
        self.max_epochs = max_epochs

    def initialize(self):
        self.epochs_done_ = 0
        self.largest_feature_ = 0.0
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if X is not None and np.size(X):
            self.largest_feature_ = float(np.max(np.abs(X)))

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if not training or loss is None:
            return
        value = float(loss.item())
        if not math.isfinite(value):
            raise FloatingPointError(
                divergence_message(
                    f"the training loss became {value}",
                    epoch=self.epochs_done_ + 1,
                    max_epochs=self.max_epochs,
                    lr=net.lr,
                    largest_feature=self.largest_feature_,
                )
            )

    def on_epoch_end(self, net, **kwargs):
        self.epochs_done_ += 1


def divergence_message(what, *, epoch, max_epochs, lr, largest_feature):
    """Why NARRanker's training diverged, and what to change."""
    return (
        f"NARRanker's training diverged: {what} at epoch {epoch} of {max_epochs}. "
        f"The likely cause is a learning rate too high for this model (lr={lr:g}; the "
        "presets use 1e-3 to 2e-3); features X on an extreme scale can do it too (largest "
        f"|X| = {largest_feature:.3g}). Lower lr, or rescale X (e.g. with the encoder's "
        "log scale or a StandardScaler)."
    )


class EpochProgress(Callback):
    """A tqdm progress bar over the training epochs, with the last epoch's loss."""

    def __init__(self, *, total, desc="NARRanker"):
        self.total = total
        self.desc = desc

    def initialize(self):
        self.bar_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.close()
        self.bar_ = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            return
        loss = net.history[-1].get("train_loss")
        if loss is not None:
            self.bar_.set_postfix(loss=f"{loss:.4g}", refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.close()

    def close(self):
        """Close the bar (also after an error, which skips ``on_train_end``)."""
        if getattr(self, "bar_", None) is not None:
            self.bar_.close()
            self.bar_ = None
