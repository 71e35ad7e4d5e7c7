"""OneMO (China Mobile MHTTP) dialect: module side and host side."""
