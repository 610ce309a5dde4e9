"""Run specifications, run directories and the train/evaluate pipeline."""
