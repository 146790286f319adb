"""Where samples come from: the built-in sources, the user's own files, decoding one picture, input noise."""
