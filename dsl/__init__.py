"""paymap's compiler: `.map` text → tokens/tree → AST with spans → checked AST → Python code."""
