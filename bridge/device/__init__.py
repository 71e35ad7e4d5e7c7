"""What an emulated module owns besides its protocol: its file-system sandbox and its hosts map."""
