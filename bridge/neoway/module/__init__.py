"""The module side of the neoway dialect (server role): reads commands, answers, runs requests."""
