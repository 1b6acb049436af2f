"""Data-parallel SFT with 03's recipe: ONE script that runs as 1 process or as N processes.  Taught in 07_two-gpus.

    python scripts/students/ddp_sft.py --out DIR                                               # 1 process (1 GPU or CPU)
    accelerate launch --multi_gpu --num_processes 2 scripts/students/ddp_sft.py --out DIR       # 2 GPUs (Kaggle's 2 x T4)
    python -m torch.distributed.run --nproc_per_node 2 scripts/students/ddp_sft.py --out DIR    # the same, = torchrun;
                                                                # also on a CPU (gloo backend): what CI runs

The launcher starts N copies of this file and tells each its RANK, LOCAL_RANK and WORLD_SIZE (environment
variables). The Trainer reads them: it joins the process group (nccl on GPUs, gloo on CPUs), wraps the model in
DistributedDataParallel and gives each process its own share of every batch.

The recipe is 03's, through the same helpers: ``helpers.train.sft_dataset`` (chosen dialogues as prompt/completion
conversations), ``helpers.train.lora_config`` and ``helpers.train.sft_config``. What DDP adds:
- ``ddp_find_unused_parameters=False`` set explicitly: a PeftModel is not a PreTrainedModel, so the Trainer's
  default would be True (a search of the autograd graph every step, and an error with re-entrant checkpointing).
- each process loads its model on its OWN GPU (``cuda:<LOCAL_RANK>``), never ``device_map="auto"``.
- only rank 0 prints the progress lines; the Trainer saves checkpoints and the adapter on rank 0 only (each rank
  writes its own ``rng_state_<rank>.pth`` into the checkpoint, which a resume needs).

Every rank writes DIR/rank<r>.json: the losses the Trainer logged, its own real tokens, time per step, peak GPU
memory, a fingerprint of every sequence it trained on, its random-number state, the LoRA weights' checksum at the
start and the end, and how the Trainer set DDP up. The notebook and tests/test_ddp.py read these files.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
import zlib
from pathlib import Path

# The root computed here, not imported: students run this in the student repository, which is not pip-installed.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", required=True, help="output folder: run/ (checkpoints), adapter/, rank<r>.json")
    p.add_argument("--model-id", default="HuggingFaceTB/SmolLM2-360M")
    p.add_argument("--profile", default=None, help="full or quick (default: $COURSE_PROFILE, else by GPU)")
    p.add_argument("--train-pairs", type=int, default=None, help="preference pairs drawn (default: all)")
    p.add_argument("--max-steps", type=int, default=8, help="optimizer steps")
    recipe = "(default: 03's recipe for the profile, helpers.train.sft_recipe)"
    p.add_argument("--batch-size", type=int, default=None, help=f"sequences per forward pass, PER PROCESS {recipe}")
    p.add_argument("--grad-accum", type=int, default=None,
                   help=f"forward passes per optimizer step, per process {recipe}")
    p.add_argument("--lr", type=float, default=None, help=f"peak learning rate {recipe}")
    p.add_argument("--max-length", type=int, default=None, help=f"tokens per example {recipe}")
    p.add_argument("--lora-dropout", type=float, default=0.05, help="03's recipe: 0.05; 0 for bit-level comparisons")
    p.add_argument("--checkpointing", action=argparse.BooleanOptionalAction, default=None,
                   help=f"activation checkpointing {recipe}")
    p.add_argument("--group-by-length", action=argparse.BooleanOptionalAction, default=True,
                   help="03's length-grouped sampler; its order depends on batch x accumulation")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    import helpers

    sft = helpers.train.sft_recipe(args.profile or helpers.get_profile(announce=False))
    for name, knob in (("batch_size", "batch_size"), ("grad_accum", "grad_accum"), ("lr", "learning_rate"),
                       ("max_length", "max_length"), ("checkpointing", "checkpointing")):
        if getattr(args, name) is None:
            setattr(args, name, sft[knob])
    for name in ("max_steps", "batch_size", "grad_accum", "max_length"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args


def fingerprint(ids) -> int:
    """A number that identifies one sequence by its real tokens (crc32 of the int64 ids)."""
    return zlib.crc32(ids.cpu().numpy().astype("int64").tobytes())


def lora_checksum(model) -> float:
    """Sum of every trainable weight in float64: equal on all ranks iff their LoRA weights are equal."""
    return float(sum(p.detach().double().sum().item() for p in model.parameters() if p.requires_grad))


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    from transformers import TrainerCallback
    from trl import SFTTrainer

    import helpers

    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated")
    warnings.filterwarnings("ignore", message="Could not find a config file in")
    helpers.quiet_library_notices()
    rank, local_rank = int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"  # each process on its own GPU
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    if world == 1 and torch.cuda.device_count() > 1:
        print(f"WARNING: {torch.cuda.device_count()} GPUs visible and no launcher: the Trainer will wrap the model in "
              "nn.DataParallel (one process, slower). Start this script with a launcher (accelerate launch / torchrun) "
              "for DDP, or set CUDA_VISIBLE_DEVICES=0 for one GPU.", flush=True)
    profile = helpers.Profile(args.profile) if args.profile else helpers.get_profile(announce=rank == 0)
    out = Path(args.out)

    def say(*parts):  # only rank 0 talks: N processes would print every line N times
        if rank == 0:
            print(*parts, flush=True)

    # --- 03's recipe, through the same helpers ------------------------------------------------------------------
    pairs = helpers.train.pick_rows(helpers.load_preferences(profile, "train"), args.train_pairs, seed=args.seed)
    train_sft, skipped = helpers.train.sft_dataset(pairs)
    tokenizer = helpers.load_tokenizer(args.model_id, profile, chat_template="course")
    config = helpers.train.sft_config(
        out / "run", max_steps=args.max_steps, batch_size=args.batch_size, grad_accum=args.grad_accum,
        learning_rate=args.lr, max_length=args.max_length, checkpointing=args.checkpointing,
        group_by_length=args.group_by_length, logging_steps=1, save_steps=args.max_steps, seed=args.seed,
        ddp_find_unused_parameters=False,  # a PeftModel would get True by default (see the docstring)
        use_cpu=device == "cpu",           # without it, CPU processes do not join DDP: each trains alone as "rank 0"
        ddp_backend="gloo" if device == "cpu" and world > 1 else None,  # CPUs talk through gloo, GPUs nccl
    )
    helpers.tracker().configure(config, "07_two-gpus", out)  # COURSE_TRACKER from the notebook: run 07_two-gpus-sft-<out>
    with helpers.train.sft._quiet_datasets():
        trainer = SFTTrainer(model=helpers.load_model(args.model_id, profile, device=device), args=config,
                             train_dataset=train_sft, processing_class=tokenizer,
                             peft_config=helpers.train.lora_config(args.model_id, dropout=args.lora_dropout))
    if rank == 0:
        helpers.train.show_progress(trainer)  # one line per log - on rank 0 only
    else:
        from transformers import PrinterCallback, ProgressCallback
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
    say(f"{world} process(es) x {args.batch_size} sequences x {args.grad_accum} accumulation = "
        f"{world * args.batch_size * args.grad_accum} sequences per optimizer step; {len(train_sft):,} examples "
        f"({len(skipped)} skipped); device of rank 0: {device}")

    # --- what each rank records -------------------------------------------------------------------------------
    record = {"rank": rank, "local_rank": local_rank, "world_size": world, "device": device, "micro_batches": [],
              "step_seconds": []}
    compute_loss = trainer.compute_loss

    def recording_loss(model, inputs, *a, **kw):  # called once per micro-batch that is trained on
        mask = inputs["attention_mask"].bool()
        record["micro_batches"].append({
            "real_tokens": int(mask.sum()), "positions": int(mask.numel()),
            "sequences": [fingerprint(ids[m]) for ids, m in zip(inputs["input_ids"], mask)]})
        return compute_loss(model, inputs, *a, **kw)

    trainer.compute_loss = recording_loss

    class Recorder(TrainerCallback):
        def on_train_begin(self, a, state, control, model=None, **kw):
            record["rng_state_crc"] = zlib.crc32(torch.get_rng_state().numpy().tobytes())  # read, not drawn from
            record["lora_checksum_start"] = lora_checksum(trainer.model)

        def on_step_begin(self, a, state, control, **kw):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            record["step_seconds"].append(time.perf_counter() - self.t0)

    trainer.add_callback(Recorder())
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with helpers.track.attached(trainer):  # the tracker's files go where helpers.tracker() says (none: nothing)
        result = trainer.train()
    trainer.save_model(str(out / "adapter"))  # every rank calls it; the Trainer writes on rank 0 only

    import torch.distributed as dist
    record.update(
        losses=[[h["step"], h["loss"]] for h in trainer.state.log_history if "loss" in h],
        train_runtime=result.metrics["train_runtime"],
        peak_memory=torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None,
        lora_checksum_end=lora_checksum(trainer.model),
        backend=dist.get_backend() if dist.is_available() and dist.is_initialized() else None,
        parallel_mode=str(trainer.args.parallel_mode.value), n_gpu=trainer.args.n_gpu,
        should_save=bool(trainer.args.should_save), is_world_process_zero=trainer.is_world_process_zero(),
        model_wrapper=type(trainer.model_wrapped).__name__,
        find_unused_parameters=trainer.accelerator.ddp_handler.find_unused_parameters,
        per_device_batch=args.batch_size, grad_accum=args.grad_accum, max_steps=args.max_steps,
        examples=len(train_sft), precision=helpers.precision().name,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{rank}.json").write_text(json.dumps(record), encoding="utf-8")
    say(f"rank 0 done: {len(record['micro_batches'])} micro-batches, {result.metrics['train_runtime']:,.1f} s; "
        f"wrote {out / 'adapter'}")
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
