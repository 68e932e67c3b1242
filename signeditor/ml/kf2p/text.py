"""Offline text and language conditioning: hashed character n-grams and word tokens.

The corpus has only a few hundred distinct sentences and glosses, so a large
pretrained sentence encoder would mostly add start-up time and download size.
A bag of hashed character trigrams and words, embedded by a table trained with
the generator, needs no files, no network and microseconds per sentence, and
still lets near-identical texts share features across spellings and languages.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

#: Hash buckets for text tokens; index 0 is reserved for padding / empty text.
TEXT_BUCKETS = 4096
MAX_TOKENS = 256


def text_token_ids(text: str) -> list[int]:
    """Stable (process-independent) token ids of a text: word tokens plus character trigrams."""
    cleaned = " ".join(text.lower().split())
    if not cleaned:
        return []
    tokens = [f"w:{w}" for w in cleaned.split(" ")]
    padded = f" {cleaned} "
    tokens += [f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2)]
    ids = [1 + zlib.crc32(tok.encode("utf-8")) % (TEXT_BUCKETS - 1) for tok in tokens]
    return ids[:MAX_TOKENS]


def token_id_arrays(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Padded (B, L) int64 ids and their (B, L) float32 weights for a mean over present tokens (all-zero for
    empty text): what the exported network takes."""
    ids = [text_token_ids(t) for t in texts]
    length = max(1, max((len(i) for i in ids), default=1))
    out = np.zeros((len(texts), length), dtype=np.int64)
    weight = np.zeros((len(texts), length), dtype=np.float32)
    for row, token_ids in enumerate(ids):
        if token_ids:
            out[row, : len(token_ids)] = token_ids
            weight[row, : len(token_ids)] = 1.0 / len(token_ids)
    return out, weight


def batch_token_ids(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`token_id_arrays` as torch tensors (training)."""
    import torch

    ids, weight = token_id_arrays(texts)
    return torch.from_numpy(ids), torch.from_numpy(weight)


def language_index(languages: list[str], code: str) -> int:
    """Index of a signed-language tag in the model's vocabulary; 0 means unknown / not given."""
    try:
        return 1 + languages.index(code)
    except ValueError:
        return 0
