"""The sync: mapping declaration, pure diff, engine and run lifecycle."""
