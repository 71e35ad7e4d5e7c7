"""Neoway (N58/N720 HTTPPARA/HTTPACTION) dialect: module side and host side."""
