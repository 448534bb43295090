"""The value model and builtin implementations that compiled mappings call.

The bottom layer: it imports neither the compiler (``dsl``) nor the runtime, so both may import it.
"""
