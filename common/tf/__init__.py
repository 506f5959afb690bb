"""Everything that imports TensorFlow: SPD layers, freezing, frozen-graph running, training helpers."""
