"""DPO and SFT with TRL + PEFT LoRA. Django-free: `runner.main(config, on_progress)` takes paths and
hyperparameters and reports progress through a callback."""
