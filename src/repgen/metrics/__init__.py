"""Metrics: image quality, generative, likelihood and latent-space numbers."""
