DROP TABLE hazard_listings;
DROP TABLE hazard_dossiers;
