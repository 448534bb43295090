"""Realistic Dodo Payments webhook bodies, one per event type (package data)."""
