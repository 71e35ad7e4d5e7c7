"""The module side of the onemo dialect (server role): reads commands, answers, runs requests."""
