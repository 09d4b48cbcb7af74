"""Datasets: the registry of named datasets, download from mirrors, readers and splits."""
