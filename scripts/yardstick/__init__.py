"""The PyTorch yardstick for mlspeed: the peers' own code (nanoGPT, transformers, diffusers,
torchvision) timed the way mlspeed times. Entry point: scripts/pytorch_reference.py."""
