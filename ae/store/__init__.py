"""Models at rest: checkpoints, their maps, zips and CSVs, the shipped zoo and the catalog the app lists."""
