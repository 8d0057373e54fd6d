"""One adapter module per framework; each is imported only once its framework is."""
