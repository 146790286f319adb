"""What a trained model can show: metrics, 2-D maps and manifolds, generation, denoising, anomaly scores."""
