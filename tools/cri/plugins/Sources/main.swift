// The plugins are the products of the dependencies; this target only pulls them in.
