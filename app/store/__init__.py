"""Storage: MongoDB over the wire (PyMongo async), with an embedded nx-27017 server by default."""
