"""Drop-in strategies. Every module here is discovered automatically; add your own file."""
