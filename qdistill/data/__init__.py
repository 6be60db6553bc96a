"""Event generation, detector response, PUPPI, and the HDF5 event files every stage reads."""
