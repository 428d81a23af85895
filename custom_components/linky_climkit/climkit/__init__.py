"""Climkit: a self-consumption site and its meters, from the Climkit developer API."""
