"""LegNet under the HF Trainer, bf16 autocast and torch.compile (tiny models)."""
from __future__ import annotations

import pytest
import torch

from kan_genomics_hf import DNATokenizer, LegNetConfig, LegNetForSequenceClassification

SEQS = ["ACGTACGTAAGGCTTAGC", "ACGGT", "TTTTGGGGCCCCAAAATTACGT", "nnACGTRYAcg"] * 2


def test_one_trainer_step(tmp_path):
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    tok = DNATokenizer()
    ds = Dataset.from_dict({"sequence": SEQS, "label": [0, 1, 0, 1] * 2})
    ds = ds.map(lambda b: tok(b["sequence"]), batched=True, remove_columns=["sequence"])
    model = LegNetForSequenceClassification(LegNetConfig(variant="lkan", block_sizes=[16, 16, 8], num_labels=2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=4, max_steps=1, report_to=[], save_strategy="no",
        use_cpu=True, logging_strategy="no", dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok))
    result = trainer.train()
    assert torch.isfinite(torch.tensor(result.training_loss))
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert any("spline_weight" in k for k in changed) and any("running_mean" in k for k in changed)


@pytest.mark.parametrize("variant", ["baseline", "lkan", "ckan"])
def test_bf16_autocast_forward_is_finite(variant):
    model = LegNetForSequenceClassification(LegNetConfig(variant=variant, block_sizes=[16, 16, 8], num_labels=2))
    enc = DNATokenizer()(SEQS, padding=True, return_tensors="pt")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(**enc, labels=torch.tensor([0, 1] * 4))
    assert torch.isfinite(out.logits.float()).all() and torch.isfinite(out.loss.float())
    out.loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_torch_compile_forward_matches_eager():
    model = LegNetForSequenceClassification(LegNetConfig(variant="lkan", block_sizes=[16, 8], num_labels=2)).eval()
    enc = DNATokenizer()(SEQS[:4], padding=True, return_tensors="pt")
    compiled = torch.compile(model)
    with torch.no_grad():
        eager = model(**enc).logits
        comp = compiled(**enc).logits
    assert torch.allclose(eager, comp, atol=1e-5)


def test_torch_compile_lkan_with_the_kan_linear_custom_op_matches_eager(forced_kan_kernels, compile_graphs):
    """With its KAN layers forced onto the custom op (as a large batch would put them), a compiled LKAN classifier
    in training mode gives eager's logits and gradients."""
    from kan_genomics_hf.modeling import kan_autograd

    torch.manual_seed(0)
    model = LegNetForSequenceClassification(LegNetConfig(variant="lkan", block_sizes=[16, 16, 8], num_labels=2))
    ids = torch.randint(0, 4, (8, 40))
    graphs = compile_graphs(model, input_ids=ids)
    assert sum(g.code.count(f"{kan_autograd._OP_NAMESPACE}.kan_linear.") for g in graphs) >= 1
    params = [p for p in model.parameters() if p.requires_grad]
    torch.manual_seed(1)
    comp = torch.compile(model, fullgraph=True)(input_ids=ids).logits
    torch.manual_seed(1)
    eager = model(input_ids=ids).logits
    torch.testing.assert_close(comp, eager, atol=1e-5, rtol=1e-5)
    for a, b in zip(torch.autograd.grad(comp.sum(), params, allow_unused=True),
                    torch.autograd.grad(eager.sum(), params, allow_unused=True)):
        if a is not None or b is not None:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    torch._dynamo.reset()
