//! Sample codecs: the Prometheus-compatible Gorilla XOR chunk and, beside it,
//! other codecs (for comparison and for cold blocks) behind one trait.
