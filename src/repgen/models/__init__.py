"""Model families, one module each; every model module owns its input scaling."""
