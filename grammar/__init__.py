"""The Lark grammar of the .map language, shipped as package data of ``dsl.grammar``."""
