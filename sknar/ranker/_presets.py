"""The presets of NARRanker: default model sizes and training settings.

How the values were chosen is told in the user guide (docs/user_guide/ranker.rst).
"""

__all__ = ["PRESETS", "SMALL_DATA_OVERRIDES", "SMALL_DATA_SIZE"]

#: Model and training settings of each preset; explicit parameters override them.
PRESETS = {
    "fast": dict(
        n_members=3,
        d_model=64,
        n_layers=2,
        n_heads=4,
        d_ff=128,
        dropout=0.0,
        rank_loss_weight=10.0,
        top_weight=0.0,
        max_epochs=100,
        lr=2e-3,
        weight_decay=1e-2,
        batch_size=64,
    ),
    "paper": dict(
        n_members=1,
        d_model=128,
        n_layers=6,
        n_heads=4,
        d_ff=512,
        dropout=0.1,
        rank_loss_weight=1.0,
        top_weight=0.0,
        max_epochs=55,
        lr=1e-3,
        weight_decay=1e-2,
        batch_size=128,
    ),
}
#: Below this many training architectures a preset switches to its small-data settings.
SMALL_DATA_SIZE = 300
#: What changes in each preset below ``SMALL_DATA_SIZE`` training architectures.
SMALL_DATA_OVERRIDES = {"fast": dict(d_model=32, d_ff=64, batch_size=32), "paper": {}}
