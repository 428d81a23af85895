"""External statistics: ids and specs, the pure aggregation into hourly rows, the importer."""
