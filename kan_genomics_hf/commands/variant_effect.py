"""`kan-genomics variant-effect`: score each VCF variant (SNVs and short indels) with a trained classifier:
the window centred on the variant with the reference and with the alternative allele, both strands; writes a
TSV (chrom, pos, id, ref, alt, ref_score, alt_score, delta, ref_logit, alt_logit, delta_logit, status, note).
delta = alt_score - ref_score (probability of the positive class), delta_logit the same in log-odds.
Variants that cannot be scored keep a row with a status (ref_mismatch, unknown_chromosome, unsupported_allele,
indel_too_long, near_chromosome_end) and NA scores, and are counted on stderr."""
from __future__ import annotations

import argparse
import sys

from ._common import add_runtime_args, fail, setup_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("variant-effect", help="score VCF variants: reference vs alternative window",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="saved model folder (e.g. <run>/best) or Hub id user/name")
    p.add_argument("--vcf", required=True, help="VCF or BCF file (plain or bgzipped), read with cyvcf2")
    p.add_argument("--genome", required=True, help="genome FASTA the VCF refers to, plain or bgzipped")
    p.add_argument("--output", required=True, help="TSV to write")
    p.add_argument("--window", type=int, default=None, help="window length in bp (default: the model's training length)")
    p.add_argument("--strand", choices=("both", "plus", "minus"), default="both",
                   help="both: average the logits of each window and its reverse complement (default: both)")
    p.add_argument("--target", default=None,
                   help="output scored as positive, index or label name (default: 1 for two classes, else 0)")
    p.add_argument("--max-indel", type=int, default=50, help="longest indel scored, in bp (default: 50)")
    p.add_argument("--batch-size", type=int, default=128, help="windows per forward pass, per strand (default: 128)")
    p.add_argument("--ism-flank", type=int, default=None,
                   help="also write an in-silico-mutagenesis map of +-N bp around each scored variant (reference "
                        "window, effect on the positive probability) to --ism-output")
    p.add_argument("--ism-output", default=None, help="TSV for the ISM maps (default: <output stem>.ism.tsv)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_runtime_args(p)
    p.set_defaults(func=run)


def _write_tsv(path, header, rows) -> None:
    import os
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\t".join(header) + "\n")
            for row in rows:
                fh.write("\t".join(str(x) for x in row) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    for flag, value in (("--window", args.window), ("--max-indel", args.max_indel), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            return fail(f"{flag} must be >= 1, got {value}")
    if args.ism_flank is not None and args.ism_flank < 0:
        return fail(f"--ism-flank must be >= 0, got {args.ism_flank}")
    if Path(args.output).is_dir():
        return fail(f"--output {args.output} is a directory; give a file path such as {Path(args.output) / 'effects.tsv'}")
    setup_runtime(args)
    import torch
    from tqdm.auto import tqdm

    from ..genome.scan import default_window, resolve_target
    from ..genome.variants import COLUMNS, ISM_COLUMNS, VariantEffectConfig, variant_effects
    from ..io.genome import Genome
    from ..io.vcf import iter_variants
    from .evaluate import load_model_and_tokenizer

    ism: list[tuple] | None = [] if args.ism_flank is not None else None
    try:
        genome = Genome(args.genome)
        model, _ = load_model_and_tokenizer(args.model)
        model.to("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
        window = args.window or default_window(model.config)
        max_len = getattr(model.config, "max_sequence_length", None)
        if max_len and window > max_len:
            return fail(f"--window {window} exceeds the model's max_sequence_length={max_len}")
        cfg = VariantEffectConfig(window=window, strand=args.strand, batch_size=args.batch_size,
                                  max_indel=args.max_indel, target=resolve_target(model.config, args.target),
                                  ism_flank=args.ism_flank)
        with tqdm(desc="variants", unit=" variants", disable=args.no_progress) as bar:
            rows = list(variant_effects(model, genome, iter_variants(args.vcf), cfg, ism, on_variant=bar.update))
    except (ValueError, FileNotFoundError, TypeError) as err:
        return fail(str(err).splitlines()[0])
    _write_tsv(args.output, COLUMNS, ([r[c] for c in COLUMNS] for r in rows))
    if ism is not None:
        ism_path = args.ism_output or str(Path(args.output).with_suffix("")) + ".ism.tsv"
        _write_tsv(ism_path, ISM_COLUMNS, ism)
    statuses: dict[str, list[dict]] = {}
    for r in rows:
        statuses.setdefault(r["status"], []).append(r)
    for status, items in sorted(statuses.items()):
        if status != "ok":
            first = items[0]
            print(f"warning: {len(items)} variant(s) not scored: {status} (first: {first['chrom']}:{first['pos']} "
                  f"{first['ref']}>{first['alt']}: {first['note']})", file=sys.stderr)
    print(f"scored {len(statuses.get('ok', []))} of {len(rows)} variants -> {args.output}")
    return 0
