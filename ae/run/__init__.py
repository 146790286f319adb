"""Turning configs into trained models: the trainer, the one pipeline, devices, and jobs on a Dask cluster."""
