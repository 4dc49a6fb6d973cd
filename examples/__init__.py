"""Demo scripts (run each as a script: .venv/bin/python examples/<name>.py --help)."""
