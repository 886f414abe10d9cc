"""Routines are data: the built-in catalogue, custom routines, and planning them."""
