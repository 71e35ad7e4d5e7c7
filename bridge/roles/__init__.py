"""The two roles every dialect is spoken from, without a dialect: the module-side base with the
3GPP basics both dialects share, and the host-side base with its command queue."""
