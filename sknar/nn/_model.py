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

    The members are computed as one batched network: each weight holds all members along
    a leading axis, and each layer is one batched matrix product for every member, so an
    ensemble costs about one network's worth of operations on a CPU, where small networks
    are limited by the count of operations rather than by arithmetic. The members start
    from exactly the weights that ``n_members`` separate :class:`NARModule` objects drawn
    in a row would have, and compute the same function (up to float rounding); the
    queries of the tier decoder do not depend on the architecture, so their self-attention
    is computed once per batch rather than once per architecture (with dropout, one mask
    for the batch). :attr:`members` gives each member back as a :class:`NARModule`.

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
    >>> len(ensemble.members)
    3
    """

    def __init__(self, n_members=3, **module_params):
        super().__init__()
        if not isinstance(n_members, numbers.Integral) or n_members < 1:
            raise ValueError(f"n_members must be a positive int, got {n_members!r}.")
        self.n_members = int(n_members)
        self.module_params = dict(module_params)
        # Drawing the members one after the other keeps the initialisation of separately
        # built modules (nn.TransformerEncoder's layers start as copies of one layer).
        members = [NARModule(**module_params) for _ in range(self.n_members)]
        template = members[0]
        self.n_patches = template.n_patches
        self.patch_size = template.patch_size
        self.n_tiers = template.n_tiers
        self.n_op_codes = template.n_op_codes
        d_model = template.patch_embedding.out_features
        n_heads = template.encoder.layers[0].self_attn.num_heads
        d_ff = template.encoder.layers[0].linear1.out_features
        dropout = float(template.encoder.layers[0].dropout.p)
        M = self.n_members
        self.patch_embedding = _GroupedLinear(M, template.patch_embedding.in_features, d_model)
        if self.n_op_codes is not None:
            self.op_embedding = _GroupedLinear(M, template.op_embedding.in_features, d_model)
        self.position_embedding = nn.Parameter(torch.empty(M, *template.position_embedding.shape))
        self.encoder = _GroupedStack(
            [_GroupedEncoderLayer(M, d_model, n_heads, d_ff, dropout)
             for _ in template.encoder.layers],
            _GroupedLayerNorm(M, d_model),
        )
        self.tier_embeddings = nn.Parameter(torch.empty(M, *template.tier_embeddings.shape))
        self.decoder = _GroupedStack(
            [_GroupedDecoderLayer(M, d_model, n_heads, d_ff, dropout)
             for _ in template.decoder.layers],
            _GroupedLayerNorm(M, d_model),
        )
        self.tier_head = _GroupedLinear(M, d_model, 1)
        self.score_head = nn.Sequential(
            _GroupedLinear(M, d_model, d_model), nn.GELU(), _GroupedLinear(M, d_model, 1)
        )
        with torch.no_grad():
            for name, stacked in self.state_dict().items():
                stacked.copy_(torch.stack([member.state_dict()[name] for member in members]))

    @property
    def members(self):
        """The members as separate :class:`NARModule` objects (copies of their weights).

        Returns
        -------
        members : list of NARModule
            One module per member, on this ensemble's device and dtype and in its
            training mode; changing them does not change the ensemble.
        """
        state = self.state_dict()
        modules = []
        for index in range(self.n_members):
            module = NARModule(**self.module_params)
            like = next(self.parameters())
            module.to(device=like.device, dtype=like.dtype).train(self.training)
            module.load_state_dict({name: value[index] for name, value in state.items()})
            modules.append(module)
        return modules

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
        memory = self.encode(X)
        queries = self.tier_embeddings.unsqueeze(1)
        decoded = self.decoder.norm(self.decoder.decode(queries, memory))
        tier_logits = self.tier_head(decoded).squeeze(-1)
        scores = self.score_head(memory.mean(dim=2)).squeeze(-1)
        return tier_logits.transpose(0, 1), scores.transpose(0, 1)

    def encode(self, X):
        """Encoded tokens of every member, shape (n_members, n, n_patches, d_model).

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_patches * patch_size ** 2)
            Flattened patches.

        Returns
        -------
        memory : torch.Tensor of shape (n_members, n, n_patches, d_model)
        """
        n = X.shape[0]
        tokens = X.reshape(n, self.n_patches, self.patch_size * self.patch_size)
        embedded = self.patch_embedding.shared(tokens)
        if self.n_op_codes is not None:
            codes = tokens[:, 0].round().long().clamp(0, self.n_op_codes - 1)
            one_hot = nn.functional.one_hot(codes, self.n_op_codes).flatten(1).to(X.dtype)
            ops = self.op_embedding.shared(one_hot)
            embedded = torch.cat([ops.unsqueeze(2), embedded[:, :, 1:]], dim=2)
        hidden = embedded + self.position_embedding
        for layer in self.encoder.layers:
            hidden = layer(hidden)
        return self.encoder.norm(hidden)


class _GroupedLinear(nn.Module):
    """``n_members`` linear layers in one: weight (M, out, in), applied to (M, ..., in)."""

    def __init__(self, n_members, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(n_members, out_features))

    def forward(self, x):
        """Each member's layer on its own input: x of shape (M, ..., in)."""
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
        out = torch.baddbmm(self.bias.unsqueeze(1), flat, self.weight.transpose(1, 2))
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def shared(self, x):
        """Every member's layer on one input: x of shape (..., in) -> (M, ..., out)."""
        M, out_features, in_features = self.weight.shape
        out = nn.functional.linear(
            x, self.weight.reshape(M * out_features, in_features), self.bias.reshape(-1)
        )
        out = out.reshape(*x.shape[:-1], M, out_features)
        return out.movedim(-2, 0)


class _GroupedLayerNorm(nn.Module):
    def __init__(self, n_members, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(n_members, d_model))
        self.bias = nn.Parameter(torch.empty(n_members, d_model))

    def forward(self, x):
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        normed = nn.functional.layer_norm(x, x.shape[-1:], eps=self.eps)
        return torch.addcmul(self.bias.reshape(shape), normed, self.weight.reshape(shape))


class _GroupedAttention(nn.Module):
    """Multi-head attention of every member, weights named as in nn.MultiheadAttention."""

    def __init__(self, n_members, d_model, n_heads, dropout):
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(n_members, 3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.empty(n_members, 3 * d_model))
        self.out_proj = _GroupedLinear(n_members, d_model, d_model)

    def _project(self, x, part, n_parts):
        """Parts ``part`` to ``part + n_parts`` of the q, k, v projection of x (M, n, T, d),
        as (n_parts, M * n, heads, T, d / heads)."""
        d = self.in_proj_weight.shape[-1]
        weight = self.in_proj_weight[:, part * d : (part + n_parts) * d]
        bias = self.in_proj_bias[:, part * d : (part + n_parts) * d]
        M, n, T, _ = x.shape
        out = torch.baddbmm(bias.unsqueeze(1), x.reshape(M, n * T, d), weight.transpose(1, 2))
        out = out.reshape(M, n, T, n_parts, self.n_heads, d // self.n_heads)
        # (batch, heads, tokens, features) per part: the layout of torch's fused CPU
        # attention kernel (with more dimensions it falls back to many tiny products).
        return out.permute(3, 0, 1, 4, 2, 5).reshape(n_parts, M * n, self.n_heads, T, -1)

    def _attend(self, q, k, v, shape):
        M, n, T_q = shape
        dropout = self.dropout if self.training else 0.0
        out = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        return self.out_proj(out.transpose(1, 2).reshape(M, n, T_q, -1))

    def self_attention(self, x):
        q, k, v = self._project(x, 0, 3)
        return self._attend(q, k, v, x.shape[:3])

    def cross_attention(self, x, memory):
        """x of shape (M, 1 or n, T_q, d) attends to memory (M, n, T, d)."""
        M, n = memory.shape[:2]
        (q,) = self._project(x, 0, 1)
        if x.shape[1] != n:
            # Queries shared by the batch are projected once, then broadcast.
            per_member = q.shape[1:]
            q = q.reshape(M, 1, *per_member).expand(M, n, *per_member)
            q = q.reshape(M * n, *per_member)
        k, v = self._project(memory, 1, 2)
        return self._attend(q, k, v, (M, n, x.shape[2]))


class _GroupedFeedForward(nn.Module):
    def __init__(self, n_members, d_model, d_ff, dropout):
        super().__init__()
        self.linear1 = _GroupedLinear(n_members, d_model, d_ff)
        self.linear2 = _GroupedLinear(n_members, d_ff, d_model)
        self.dropout = dropout

    def feed_forward(self, x):
        hidden = nn.functional.gelu(self.linear1(x))
        return self._drop(self.linear2(self._drop(hidden)))

    def _drop(self, x):
        return nn.functional.dropout(x, self.dropout, self.training) if self.dropout else x


class _GroupedEncoderLayer(_GroupedFeedForward):
    """Pre-norm encoder layer of every member (as nn.TransformerEncoderLayer, norm_first)."""

    def __init__(self, n_members, d_model, n_heads, d_ff, dropout):
        super().__init__(n_members, d_model, d_ff, dropout)
        self.self_attn = _GroupedAttention(n_members, d_model, n_heads, dropout)
        self.norm1 = _GroupedLayerNorm(n_members, d_model)
        self.norm2 = _GroupedLayerNorm(n_members, d_model)

    def forward(self, x):
        x = x + self._drop(self.self_attn.self_attention(self.norm1(x)))
        return x + self.feed_forward(self.norm2(x))


class _GroupedDecoderLayer(_GroupedFeedForward):
    """Pre-norm decoder layer of every member (as nn.TransformerDecoderLayer, norm_first)."""

    def __init__(self, n_members, d_model, n_heads, d_ff, dropout):
        super().__init__(n_members, d_model, d_ff, dropout)
        self.self_attn = _GroupedAttention(n_members, d_model, n_heads, dropout)
        self.multihead_attn = _GroupedAttention(n_members, d_model, n_heads, dropout)
        self.norm1 = _GroupedLayerNorm(n_members, d_model)
        self.norm2 = _GroupedLayerNorm(n_members, d_model)
        self.norm3 = _GroupedLayerNorm(n_members, d_model)

    def forward(self, x, memory):
        """x of shape (M, 1 or n, n_tiers, d): queries shared by the batch broadcast."""
        # With queries shared by the batch, their self-attention runs once, not n times.
        x = x + self._drop(self.self_attn.self_attention(self.norm1(x)))
        x = x + self._drop(self.multihead_attn.cross_attention(self.norm2(x), memory))
        return x + self.feed_forward(self.norm3(x))


class _GroupedStack(nn.Module):
    """Layers and a final norm, named like nn.TransformerEncoder / nn.TransformerDecoder."""

    def __init__(self, layers, norm):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = norm

    def decode(self, queries, memory):
        x = queries
        for layer in self.layers:
            x = layer(x, memory)
        return x


def _encoder_layer(d_model, n_heads, d_ff, dropout):
    return nn.TransformerEncoderLayer(
        d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True, norm_first=True
    )


def _decoder_layer(d_model, n_heads, d_ff, dropout):
    return nn.TransformerDecoderLayer(
        d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True, norm_first=True
    )
