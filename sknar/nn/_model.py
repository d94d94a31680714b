"""The NAR network: patch tokens -> transformer encoder -> tier decoder and score head."""

import numbers

import torch
from torch import nn


class NARModule(nn.Module):
    """Neural Architecture Ranker.

    Each architecture arrives as ``n_patches`` flattened ``patch_size x patch_size`` patches
    (op codes, then FLOPs and params of every cell). Every patch is a token: a linear embedding
    plus a learned position embedding, then a transformer encoder. In the tier decoder the
    ``n_tiers`` learned tier embeddings attend to the encoded architecture, all tiers in one
    batched pass, and a shared linear head turns each decoded tier embedding into that tier's
    logit. An auxiliary head scores the mean-pooled encoding.

    The tier embeddings are parameters: trained by back-propagation, saved in the
    ``state_dict`` and used identically in training and at inference.

    Parameters
    ----------
    n_patches : int
        Number of tokens per architecture.
    patch_size : int
        Side ``P`` of the square patches; each token has ``P * P`` values.
    n_tiers : int, default=5
        Number of quality tiers (column 0 of the logits is the top tier).
    d_model : int, default=64
        Width of the embeddings.
    n_layers : int, default=2
        Number of encoder layers.
    n_heads : int, default=4
        Attention heads (must divide ``d_model``).
    d_ff : int, default=128
        Hidden width of the feed-forward blocks.
    dropout : float, default=0.1
        Dropout in the transformer layers.
    n_decoder_layers : int, default=1
        Number of tier-decoder layers.
    n_op_codes : int or None, default=None
        When set, the first patch holds integer op codes in ``[0, n_op_codes)``; each entry
        is one-hot encoded before its embedding, so that codes act as categories rather than
        magnitudes (op code 4 is not "twice" op code 2). None embeds it like the others.

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import NARModule
    >>> module = NARModule(n_patches=31, patch_size=4, n_tiers=5)
    >>> tier_logits, scores = module(torch.zeros(8, 31 * 16))
    >>> tuple(tier_logits.shape), tuple(scores.shape)
    ((8, 5), (8,))
    """

    def __init__(
        self,
        n_patches,
        patch_size,
        n_tiers=5,
        d_model=64,
        n_layers=2,
        n_heads=4,
        d_ff=128,
        dropout=0.1,
        n_decoder_layers=1,
        n_op_codes=None,
    ):
        super().__init__()
        self.n_patches = n_patches
        self.patch_size = patch_size
        self.n_tiers = n_tiers
        self.n_op_codes = n_op_codes
        self.patch_embedding = nn.Linear(patch_size * patch_size, d_model)
        if n_op_codes is not None:
            self.op_embedding = nn.Linear(patch_size * patch_size * n_op_codes, d_model)
        self.position_embedding = nn.Parameter(torch.randn(1, n_patches, d_model) * 0.02)
        self.encoder = nn.TransformerEncoder(
            _encoder_layer(d_model, n_heads, d_ff, dropout),
            num_layers=n_layers,
            norm=nn.LayerNorm(d_model),
            enable_nested_tensor=False,
        )
        self.tier_embeddings = nn.Parameter(torch.randn(n_tiers, d_model) * 0.02)
        self.decoder = nn.TransformerDecoder(
            _decoder_layer(d_model, n_heads, d_ff, dropout),
            num_layers=n_decoder_layers,
            norm=nn.LayerNorm(d_model),
        )
        self.tier_head = nn.Linear(d_model, 1)
        self.score_head = nn.Sequential(
            nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1)
        )

    def encode(self, X):
        """Encoded tokens of shape (n, n_patches, d_model).

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_patches * patch_size ** 2)
            Flattened patches.

        Returns
        -------
        memory : torch.Tensor of shape (n, n_patches, d_model)
        """
        tokens = X.reshape(X.shape[0], self.n_patches, self.patch_size * self.patch_size)
        embedded = self.patch_embedding(tokens)
        if self.n_op_codes is not None:
            codes = tokens[:, 0].round().long().clamp(0, self.n_op_codes - 1)
            one_hot = nn.functional.one_hot(codes, self.n_op_codes).flatten(1).to(X.dtype)
            embedded = torch.cat([self.op_embedding(one_hot)[:, None], embedded[:, 1:]], dim=1)
        return self.encoder(embedded + self.position_embedding)

    def forward(self, X):
        """Tier logits and auxiliary scores.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_patches * patch_size ** 2)
            Flattened patches.

        Returns
        -------
        tier_logits : torch.Tensor of shape (n, n_tiers)
            Column 0 is the top tier.
        scores : torch.Tensor of shape (n,)
            Higher is better.
        """
        memory = self.encode(X)
        queries = self.tier_embeddings.unsqueeze(0).expand(X.shape[0], -1, -1)
        decoded = self.decoder(queries, memory)
        tier_logits = self.tier_head(decoded).squeeze(-1)
        scores = self.score_head(memory.mean(dim=1)).squeeze(-1)
        return tier_logits, scores


class NAREnsemble(nn.Module):
    """Several NAR modules, initialised independently and trained side by side.

    A deep ensemble in one module: every member is a :class:`NARModule` with the same
    settings and its own random initialisation; all see the same batches, and
    :class:`~sknar.nn.NARLoss` averages their losses, so the members do not co-adapt.
    The outputs keep a member axis after the batch axis, which skorch's batch-wise
    prediction concatenates like any batch-first output.

    Parameters
    ----------
    n_members : int, default=3
        Number of member networks.
    **module_params
        Parameters of each :class:`NARModule` (``n_patches``, ``patch_size``, ``n_tiers``,
        ``d_model``, ...).

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import NAREnsemble
    >>> ensemble = NAREnsemble(n_members=3, n_patches=31, patch_size=4, n_tiers=5)
    >>> tier_logits, scores = ensemble(torch.zeros(8, 31 * 16))
    >>> tuple(tier_logits.shape), tuple(scores.shape)
    ((8, 3, 5), (8, 3))
    """

    def __init__(self, n_members=3, **module_params):
        super().__init__()
        if not isinstance(n_members, numbers.Integral) or n_members < 1:
            raise ValueError(f"n_members must be a positive int, got {n_members!r}.")
        self.n_members = int(n_members)
        self.members = nn.ModuleList(NARModule(**module_params) for _ in range(self.n_members))

    def forward(self, X):
        """Tier logits and scores of every member.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_patches * patch_size ** 2)
            Flattened patches.

        Returns
        -------
        tier_logits : torch.Tensor of shape (n, n_members, n_tiers)
            Column 0 of the last axis is the top tier.
        scores : torch.Tensor of shape (n, n_members)
            Higher is better.
        """
        outputs = [member(X) for member in self.members]
        tier_logits = torch.stack([logits for logits, _ in outputs], dim=1)
        scores = torch.stack([member_scores for _, member_scores in outputs], dim=1)
        return tier_logits, scores


def _encoder_layer(d_model, n_heads, d_ff, dropout):
    return nn.TransformerEncoderLayer(
        d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True, norm_first=True
    )


def _decoder_layer(d_model, n_heads, d_ff, dropout):
    return nn.TransformerDecoderLayer(
        d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True, norm_first=True
    )
