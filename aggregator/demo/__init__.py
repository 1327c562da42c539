"""The offline demo: sample feeds and a local HTTP server that serves them."""
