"""What every stage shares: reading params.yaml, MLflow runs and their children."""
