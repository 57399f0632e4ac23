DROP TABLE lead_sources;
