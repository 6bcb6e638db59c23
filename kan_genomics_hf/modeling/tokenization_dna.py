"""Character-level DNA tokenizer (A, C, G, T, N + special tokens) for the LegNet classifiers.

Ids follow ``dna_encoding`` (A=0, C=1, G=2, T=3, N=4) so the model one-hot encodes ids directly.
Batches are encoded in one vectorised numpy pass (``dna_encoding.encode_padded``); no special tokens
are added (a CNN has no use for [CLS]/[SEP]).
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from transformers import BatchEncoding, PreTrainedTokenizer
from transformers.tokenization_utils_base import PaddingStrategy, TruncationStrategy

from .configuration_legnet import DNA_VOCAB
from .dna_encoding import IUPAC_AMBIGUOUS, encode_padded, encode_sequence
from .dna_encoding import reverse_complement as _reverse_complement

logger = logging.getLogger(__name__)
VOCAB_FILES_NAMES = {"vocab_file": "vocab.json"}
_LARGE = int(1e20)


class DNATokenizer(PreTrainedTokenizer):
    """Tokenize DNA one base per token; case-insensitive; IUPAC codes become N (``iupac="n"``) or raise."""

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]
    # save_pretrained copies this file (+ its relative imports) and writes auto_map for AutoTokenizer
    _auto_class = "AutoTokenizer"

    def __init__(
        self,
        vocab_file: str | None = None,
        iupac: str = "n",
        pad_token: str = "[PAD]",
        unk_token: str = "[UNK]",
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        mask_token: str = "[MASK]",
        **kwargs: Any,
    ) -> None:
        if iupac not in ("n", "error"):
            raise ValueError(f"DNATokenizer: iupac must be 'n' or 'error', got {iupac!r}")
        self.vocab = {tok: i for i, tok in enumerate(DNA_VOCAB)}
        if vocab_file is not None:
            self._check_vocab_file(vocab_file)
        self.ids_to_tokens = {i: tok for tok, i in self.vocab.items()}
        self.iupac = iupac
        kwargs.setdefault("padding_side", "right")
        kwargs.setdefault("model_max_length", _LARGE)
        super().__init__(
            pad_token=pad_token,
            unk_token=unk_token,
            cls_token=cls_token,
            sep_token=sep_token,
            mask_token=mask_token,
            iupac=iupac,
            **kwargs,
        )

    def _check_vocab_file(self, vocab_file: str) -> None:
        """The vocabulary is fixed (the model one-hot encodes ids 0..3); refuse a file that differs."""
        try:
            with open(vocab_file, encoding="utf-8") as f:
                vocab = json.load(f)
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"DNATokenizer: cannot read vocabulary file {vocab_file}: {err}") from None
        if vocab != self.vocab:
            raise ValueError(
                f"DNATokenizer: vocabulary file {vocab_file} does not match the fixed DNA vocabulary "
                f"{self.vocab}; got {vocab}"
            )

    # --- vocabulary -----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of tokens in the fixed vocabulary."""
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        """Token -> id mapping (fixed vocabulary plus any added tokens)."""
        return {**self.vocab, **getattr(self, "_added_tokens_encoder", {})}

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        codes = encode_sequence(text, iupac=self.iupac)
        return [DNA_VOCAB[c] for c in codes]

    def _convert_token_to_id(self, token: str) -> int:
        tok = token.upper() if len(token) == 1 else token
        if tok in IUPAC_AMBIGUOUS and self.iupac == "n":
            tok = "N"
        return self.vocab.get(tok, self.vocab["[UNK]"])

    def _convert_id_to_token(self, index: int) -> str:
        return self.ids_to_tokens.get(int(index), "[UNK]")

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join base tokens back into a sequence string."""
        return "".join(tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        """No special tokens are added to DNA inputs."""
        return 0

    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        """Inputs are the base ids as they are (pairs are concatenated)."""
        return list(token_ids_0) + (list(token_ids_1) if token_ids_1 else [])

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        """Mark special-token ids (>= 5) with 1."""
        ids = list(token_ids_0) + (list(token_ids_1) if token_ids_1 else [])
        return [int(i > 4) for i in ids]

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Write vocab.json (the fixed vocabulary) into ``save_directory``."""
        if not os.path.isdir(save_directory):
            raise ValueError(f"DNATokenizer.save_vocabulary: {save_directory} is not a directory")
        name = (filename_prefix + "-" if filename_prefix else "") + VOCAB_FILES_NAMES["vocab_file"]
        path = os.path.join(save_directory, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.vocab, f, indent=2)
            f.write("\n")
        return (path,)

    # --- helpers --------------------------------------------------------------------------------
    @staticmethod
    def reverse_complement(seqs: str | Sequence[str]) -> str | list[str]:
        """Reverse complement of one sequence or of each sequence in a list."""
        if isinstance(seqs, str):
            return _reverse_complement(seqs)
        return [_reverse_complement(s) for s in seqs]

    # --- fast batch encoding ----------------------------------------------------------------------
    def _warn_if_too_long(self, seqs: Sequence[str]) -> None:
        """Warn once (as transformers does) when a sequence is longer than ``model_max_length``."""
        if self.model_max_length >= _LARGE or getattr(self, "_warned_too_long", False):
            return
        lens = np.fromiter((len(t) if isinstance(t, str) else 0 for t in seqs), dtype=np.int64, count=len(seqs))
        too_long = np.flatnonzero(lens > self.model_max_length)
        if too_long.size:
            i = int(too_long[0])
            self._warned_too_long = True
            logger.warning(
                "DNATokenizer: sequence %d has length %d, longer than the model's maximum of %d bases; a model with "
                "max_sequence_length refuses it: pass truncation=True, or scan it with the 'dna-classification' pipeline "
                "(window=...)", i, int(lens[i]), self.model_max_length,
            )

    def _encode_plus(self, text: Any, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        fast = (
            text_pair is None
            and not kwargs.get("is_split_into_words", False)
            and not kwargs.get("return_overflowing_tokens", False)
            and not kwargs.get("return_offsets_mapping", False)
            and (isinstance(text, str) or (isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text)))
        )
        if not fast:
            return super()._encode_plus(text, text_pair=text_pair, **kwargs)
        return self._encode_fast(text, **kwargs)

    def _encode_fast(
        self,
        text: str | Sequence[str],
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: Any = None,
        return_attention_mask: bool | None = None,
        return_special_tokens_mask: bool = False,
        return_length: bool = False,
        return_token_type_ids: bool | None = None,
        **_: Any,
    ) -> BatchEncoding:
        """Vectorised path for a str or list of str: validate, truncate, pad, build the attention mask."""
        single = isinstance(text, str)
        seqs = [text] if single else list(text)
        truncate = truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length is not None
        if not truncate:
            self._warn_if_too_long(seqs)
        pad_to = max_length if padding_strategy == PaddingStrategy.MAX_LENGTH else None
        side = padding_side or self.padding_side
        empty = [i for i, t in enumerate(seqs) if isinstance(t, str) and not t]
        codes, lengths = encode_padded(
            [t if isinstance(t, str) and t else "A" for t in seqs] if empty else seqs,
            pad_value=self.pad_token_id,
            max_length=max_length,
            truncate=truncate,
            truncation_side=self.truncation_side,
            padding_side=side,
            pad_to=pad_to,
            pad_to_multiple_of=pad_to_multiple_of if padding_strategy != PaddingStrategy.DO_NOT_PAD else None,
            iupac=self.iupac,
        )
        if empty:  # "" encodes to no ids (as in transformers); a placeholder base kept encode_padded happy
            codes, lengths = _blank_rows(codes, lengths, empty, self.pad_token_id, pad_to)
        ids = codes.astype(np.int64)
        mask = (ids != self.pad_token_id).astype(np.int64)
        data: dict[str, Any] = {}
        ragged = padding_strategy == PaddingStrategy.DO_NOT_PAD and len(set(lengths.tolist())) > 1
        if ragged and return_tensors is not None:
            raise ValueError(
                "DNATokenizer: sequences have different lengths; pass padding=True (or 'max_length') "
                "to return tensors"
            )
        want_mask = return_attention_mask if return_attention_mask is not None else True
        if return_tensors is None:
            rows, mrows = ids.tolist(), mask.tolist()
            if ragged:
                n_list = lengths.tolist()
                rows = [r[:n] if side == "right" else r[len(r) - n :] for r, n in zip(rows, n_list)]
                mrows = [[1] * n for n in n_list]
            pick = (lambda v: v[0]) if single else (lambda v: v)
            data["input_ids"] = pick(rows)
            if want_mask:
                data["attention_mask"] = pick(mrows)
            if return_token_type_ids:
                data["token_type_ids"] = pick([[0] * len(r) for r in rows])
            if return_special_tokens_mask:
                data["special_tokens_mask"] = pick([[int(v > 4) for v in r] for r in rows])
            if return_length:
                data["length"] = pick(lengths.tolist())
            return BatchEncoding(data, tensor_type=None)
        data["input_ids"] = ids
        if want_mask:
            data["attention_mask"] = mask
        if return_token_type_ids:
            data["token_type_ids"] = np.zeros_like(ids)
        if return_special_tokens_mask:
            data["special_tokens_mask"] = (ids > 4).astype(np.int64)
        if return_length:
            data["length"] = lengths
        return BatchEncoding(data, tensor_type=return_tensors)


def _blank_rows(
    codes: np.ndarray, lengths: np.ndarray, rows: list[int], pad_id: int, pad_to: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``rows`` (empty inputs encoded from a one-base placeholder) all padding with length 0; drop the
    placeholder column when every input was empty and no fixed length was asked for."""
    codes, lengths = codes.copy(), lengths.copy()
    codes[rows] = pad_id
    lengths[rows] = 0
    if pad_to is None and not lengths.any():
        codes = codes[:, :0]
    return codes, lengths
